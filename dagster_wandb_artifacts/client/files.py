"""``File``: a stored file of a logged version, as ``Artifact.files()`` lists it (the SDK's
``wandb.apis.public.File``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# The SDK's pattern for a direct URL into S3 (``https://<bucket>.s3[.<region>].amazonaws.com/``).
_S3_URL = re.compile(r"^https?://.*s3.*amazonaws\.com.*")


class ArtifactFile:
    """One stored file: ``name``, ``size``, ``md5``/``digest``, ``mimetype``, ``updated_at``,
    ``url``/``direct_url``/``path_uri`` and ``storage_path``."""

    # A listing keeps every file it has loaded: no per-object dict for 100,000s of them.
    __slots__ = (
        "id",
        "name",
        "size",
        "md5",
        "digest",
        "direct_url",
        "url",
        "mimetype",
        "updated_at",
        "storage_path",
    )

    def __init__(self, node: dict[str, Any]) -> None:
        self.id: str = node["id"]
        self.name: str = node["name"]
        self.size: int = int(node.get("sizeBytes") or 0)
        self.md5: str = node["md5"]
        self.digest: str = node["digest"]
        self.direct_url: str = node["directUrl"]
        self.url: str = node["url"]
        self.mimetype: str | None = node.get("mimetype")
        self.updated_at: str | None = node.get("updatedAt")
        self.storage_path: str | None = node.get("storagePath")

    @property
    def path_uri(self) -> str:
        """Where the bytes are in their bucket: ``s3://bucket/key`` for a file stored in S3, the
        URL itself for a reference, else ``""`` (as the SDK answers)."""
        if not self.direct_url:
            return ""
        if self.direct_url == self.url:
            return self.direct_url
        if not _S3_URL.match(self.direct_url):
            return ""
        parts = urlsplit(self.direct_url)
        return f"s3://{parts.netloc.split('.')[0]}/{parts.path.lstrip('/')}"

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.mimetype}) {self.size}B>"
