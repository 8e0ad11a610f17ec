"""Typed errors of the client. Every message says what to do and never holds the API key."""

from __future__ import annotations

# Defined with W&B's formats (the server raises bad input too); part of the client's errors.
from ..formats.errors import InvalidInputError as InvalidInputError
from ..formats.errors import WandbError


class CommError(WandbError):
    """The server could not be reached, or kept failing, after the retries allowed."""


class AuthenticationError(WandbError):
    """The server refused the API key (or none was given)."""


class NotFoundError(CommError):
    """The named entity, project, run, artifact or file does not exist (a ``CommError``, as the
    SDK reports it)."""


class ParentNotFoundError(NotFoundError, ValueError):
    """What a listing or a project object stands for does not exist: a ``ValueError``, as the
    SDK raises for a listing of a missing project, type or collection, or a missing project's
    ``id``."""


class MissingReferenceError(NotFoundError, ValueError):
    """A local file a reference recorded is gone: a ``ValueError``, as the SDK raises when it
    downloads it."""


class ServerError(WandbError):
    """The server answered with an error that is neither of the above."""


class ArtifactNotLoggedError(WandbError, AttributeError):
    """The operation needs a logged artifact, and this one is still a draft.

    An ``AttributeError``, as the SDK's: ``getattr(draft, "version", None)`` gives None."""


class ArtifactFinalizedError(WandbError, AttributeError):
    """The artifact is logged or finalized and can no longer change (an ``AttributeError``, as
    the SDK's)."""


class IntegrityError(WandbError, ValueError):
    """Bytes do not match their recorded md5 or size (a download, a cache entry, a folder).
    ``received`` is the md5 (hex) of the bytes that arrived, when known."""

    def __init__(self, message: str, *, received: str | None = None) -> None:
        super().__init__(message)
        self.received = received


def found_corrupt(exc: NotFoundError) -> bool:
    """Whether a 404 is the embedded server's refusal of a stored copy it found corrupt (it
    set the copy aside: logging the same bytes again repairs it)."""
    return "found corrupt on the server" in str(exc)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    return text.replace(secret, "***") if secret else text
