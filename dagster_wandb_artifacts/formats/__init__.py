"""W&B's formats, shared by the client and the embedded server (neither imports the other's
internals): the manifest and its digests, md5 hashing, registry names, and the errors bad input
in them raises."""
