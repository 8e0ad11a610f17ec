"""Multipart uploads of one large object: its parts are PUT to signed URLs of their own
(``/storage/part/<upload>/<number>``), then joined into the object, whose md5 must be the one
the upload was created with."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .blobs import BlobStore, multipart_folder, object_key, part_key
from .store import Store, StoreError
from .store.access import Access

_CHUNK = 1 << 20


def complete_multipart(
    store: Store, blob_store: BlobStore, access: Access, upload_id: str, parts: list[dict[str, Any]]
) -> str:
    """Join uploaded parts into one object whose md5 must be the one declared at creation."""
    upload = store.multipart_upload(upload_id)
    if upload is None:
        raise StoreError(f"unknown multipart upload {upload_id}")
    access.writable_artifact(upload["artifact_id"])
    if store.blob(upload["md5"]) and store.granted(upload["artifact_id"], upload["md5"]):
        # A retried completion whose first reply was lost: the object is already whole.
        return upload["md5"]
    declared = {part["partNumber"]: part["hexMD5"] for part in json.loads(upload["parts"])}
    numbers = sorted(part["partNumber"] for part in parts)
    if numbers != sorted(declared):
        raise StoreError("completedParts does not list the parts the upload was created with")
    md5 = hashlib.md5()
    size = 0
    with blob_store.staging_file() as (file, path):
        for number in numbers:
            key = part_key(upload_id, number)
            if not blob_store.exists(key):
                raise StoreError(f"part {number} of upload {upload_id} was not uploaded")
            part_md5 = hashlib.md5()
            with blob_store.open(key) as part:
                while chunk := part.read(_CHUNK):
                    part_md5.update(chunk)
                    md5.update(chunk)
                    file.write(chunk)
                    size += len(chunk)
            if part_md5.hexdigest() != declared[number]:
                raise StoreError(f"part {number} does not match its declared md5")
        file.close()
        if md5.hexdigest() != upload["md5"]:
            raise StoreError("the joined parts do not match the file's md5")
        blob_store.commit(path, object_key(upload["md5"]))
    store.record_blobs([(upload["md5"], size)], [(upload["artifact_id"], upload["md5"])])
    blob_store.remove(multipart_folder(upload_id))
    return upload["md5"]
