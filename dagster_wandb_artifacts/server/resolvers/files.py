"""Manifests and files: the upload and download URLs of an artifact's bytes and of run files."""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from ...formats.errors import InvalidInputError
from ...formats.manifest import hex_to_b64
from .. import blobs
from ..ids import decode_id, encode_cursor, encode_id
from ..multipart import complete_multipart
from ..store import NotFound
from ..store.commit import check_storage_region, commit_version, md5_b64_to_hex
from . import artifacts
from .common import Context, Node


def storage_path(birth_artifact_id: int, md5_hex: str) -> str:
    """A stored file's path as W&B shows it: under ``wandb_artifacts/``, by the version that
    first stored it (this server keeps the bytes by md5 alone)."""
    return f"wandb_artifacts/{birth_artifact_id}/{md5_hex}"


def grant_path(md5_hex: str, artifact_id: int) -> str:
    """The signed path of an upload that, once verified, lets version ``artifact_id`` list the
    object (a grant)."""
    return f"/storage/obj/{md5_hex}?for={artifact_id}"


def _base(ctx: Context, base: str | None) -> int | None:
    """A patch manifest's base version: one the caller may read (its entries are copied)."""
    return ctx.access.require_artifact(decode_id(base, "Artifact"))["id"] if base else None


class ManifestNode(Node):
    """A version's manifest; for a writer of a distributed version, its own patch (``patch``:
    the patch's md5, base64), uploaded to a URL of its own."""

    def __init__(
        self, ctx: Context, row: sqlite3.Row, *, with_upload: bool, patch: str | None = None
    ) -> None:
        super().__init__(ctx, row)
        self._with_upload = with_upload
        self._patch = patch

    @property
    def id(self) -> str:
        return encode_id("ArtifactManifest", self.row["id"])

    @property
    def type(self) -> str:
        return self.row["type"]

    @property
    def digest(self) -> str:
        return self._patch or self.row["digest"]

    @property
    def file(self) -> dict[str, Any]:
        # W&B's manifest URLs end in the file's name, as the SDK's own uploads name it.
        folder = f"/storage/manifest/{self.row['artifact_id']}"
        path = f"{folder}/wandb_manifest.json"
        url = self.ctx.signed_url("GET", path)
        if self._patch:
            path = f"{folder}/patches/{md5_b64_to_hex(self._patch)}/wandb_manifest.json"
        return {
            "id": encode_id("File", -self.row["id"]),
            "name": self.row["name"],
            "displayName": self.row["name"],
            "url": url,
            "directUrl": url,
            "digest": self.digest,
            "md5": self.digest,
            "uploadUrl": self.ctx.signed_url("PUT", path) if self._with_upload else None,
            "uploadHeaders": [],
        }


class FileNode(Node):
    """A manifest entry of a committed version: a stored file, or a reference (no bytes here;
    its URLs are the reference's URI)."""

    @property
    def id(self) -> str:
        return encode_id("File", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    displayName = name  # noqa: N815

    @property
    def directUrl(self) -> str:  # noqa: N802
        if self.row["md5"] is None:
            return self.row["ref"]
        return self.ctx.signed_url("GET", f"/storage/obj/{self.row['md5']}")

    url = directUrl

    @property
    def sizeBytes(self) -> int:  # noqa: N802
        return self.row["size"]

    @property
    def storagePath(self) -> str | None:  # noqa: N802
        if self.row["md5"] is None:
            return None
        return storage_path(
            self.row["birth_artifact_id"] or self.row["artifact_id"], self.row["md5"]
        )

    mimetype = None
    updatedAt = None  # noqa: N815

    @property
    def md5(self) -> str | None:
        return None if self.row["md5"] is None else hex_to_b64(self.row["md5"])

    digest = md5
    uploadUrl = None  # noqa: N815
    uploadHeaders: list[str] = []  # noqa: N815, RUF012

    @property
    def artifact(self) -> artifacts.ArtifactNode | None:
        """The version that first stored the file, when the caller may read it."""
        row = self.ctx.access.artifact(self.row["birth_artifact_id"] or self.row["artifact_id"])
        return artifacts.ArtifactNode(self.ctx, row) if row else None


class FileMutations:
    """Mutation fields that hand out upload URLs and commit what was uploaded."""

    ctx: Context

    def createRunFiles(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        self.ctx.access.write_named(input["entityName"], input["projectName"])
        run = self.ctx.store.require_run(
            input["entityName"], input["projectName"], input["runName"]
        )
        files = []
        for name in input["files"]:
            blobs.run_file_key(run["id"], name)  # refuses a name that is not a safe path
            path = f"/storage/runfile/{run['id']}/{name}"
            files.append({"name": name, "uploadUrl": self.ctx.signed_url("PUT", path)})
        return {"runID": encode_id("Run", run["id"]), "uploadHeaders": [], "files": files}

    # Artifacts -----------------------------------------------------------------------------------

    def createArtifactManifest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        base = input.get("baseArtifactID")
        if input["digest"]:  # the SDK creates it without one, and sends it with the update
            md5_b64_to_hex(input["digest"])
        access = self.ctx.access
        artifact_id = access.writable_artifact(decode_id(input["artifactID"], "Artifact"))["id"]
        row = self.ctx.store.upsert_manifest(
            artifact_id,
            name=input["name"],
            digest=input["digest"],
            manifest_type=input.get("type") or "FULL",
            base_artifact_id=_base(self.ctx, base),
        )
        return {"artifactManifest": self._uploadable(row, input["digest"])}

    def updateArtifactManifest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        current = self.ctx.store.get(
            "manifests", decode_id(input["artifactManifestID"], "ArtifactManifest")
        )
        if current is None:
            raise NotFound("artifact manifest not found")
        self.ctx.access.writable_artifact(current["artifact_id"])
        base = input.get("baseArtifactID")
        if input.get("digest"):
            md5_b64_to_hex(input["digest"])
        row = self.ctx.store.upsert_manifest(
            current["artifact_id"],
            name=current["name"],
            digest=input.get("digest") or current["digest"],
            manifest_type=current["type"],
            base_artifact_id=_base(self.ctx, base) if base else current["base_artifact_id"],
        )
        return {"artifactManifest": self._uploadable(row, input.get("digest"))}

    def _uploadable(self, row: sqlite3.Row, digest: str | None) -> ManifestNode:
        """The manifest with its upload URL: a ``PATCH`` one (a distributed version's writer)
        declares its own patch, which no other writer's upload can replace."""
        if row["type"] != "PATCH" or not digest:
            return ManifestNode(self.ctx, row, with_upload=True)
        self.ctx.store.declare_patch(row["artifact_id"], md5_b64_to_hex(digest))
        return ManifestNode(self.ctx, row, with_upload=True, patch=digest)

    def createArtifactFiles(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store, access = self.ctx.store, self.ctx.access
        check_storage_region(input.get("storageRegion"))
        nodes = []
        # With ARTIFACT_DIGEST_ALGORITHM the SDK names each file's digest too; this server
        # keeps files by md5, which is the digest of MANIFEST_MD5 manifests.
        if input.get("digestAlgorithm") not in (None, "MANIFEST_MD5"):
            raise InvalidInputError("this server stores files by md5 only (MANIFEST_MD5)")
        for spec in input["artifactFiles"]:
            if spec.get("digest") not in (None, spec["md5"]):
                raise InvalidInputError(f"{spec['name']}: digest and md5 differ")
            artifact = access.writable_artifact(decode_id(spec["artifactID"], "Artifact"))
            md5_hex = md5_b64_to_hex(spec["md5"])
            blob = store.blob(md5_hex)
            # Deduplicated only through a version the caller may read: an md5 alone grants
            # nothing, so bytes stored for others are uploaded again (and checked).
            birth = blob and access.version_holding(md5_hex, blob["birth_artifact_id"])
            node: dict[str, Any] = {
                "name": spec["name"],
                "displayName": spec["name"],
                "md5": spec["md5"],
                "digest": spec["md5"],
                "uploadUrl": None,
                "uploadHeaders": [],
                "uploadMultipartUrls": None,
            }
            if blob is not None and (birth is not None or access.admin):
                birth = birth or artifact
            else:
                birth = artifact
                # The URL names the version: only the verified upload of the bytes lets it
                # list them, never the declaration (which anyone knowing the md5 can make).
                path = grant_path(md5_hex, artifact["id"])
                node["uploadUrl"] = self.ctx.signed_url("PUT", path)
                node["uploadHeaders"] = [f"Content-MD5:{spec['md5']}"]
                parts = spec.get("uploadPartsInput")
                if parts:
                    node["uploadMultipartUrls"] = self._begin_multipart(artifact, md5_hex, parts)
            node["storagePath"] = storage_path(birth["id"], md5_hex)
            node["id"] = encode_id("File", 0)
            node["artifact"] = artifacts.ArtifactNode(self.ctx, birth)
            nodes.append(node)
        edges = [{"node": node, "cursor": encode_cursor(i)} for i, node in enumerate(nodes)]
        return {
            "files": {
                "totalCount": len(nodes),
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
                "edges": edges,
            }
        }

    def _begin_multipart(
        self, artifact: sqlite3.Row, md5_hex: str, parts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        upload_id = secrets.token_hex(16)
        self.ctx.store.begin_multipart(upload_id, md5_hex, artifact["id"], json.dumps(parts))
        return {
            "uploadID": upload_id,
            "uploadUrlParts": [
                {
                    "partNumber": part["partNumber"],
                    "uploadUrl": self.ctx.signed_url(
                        "PUT", f"/storage/part/{upload_id}/{part['partNumber']}"
                    ),
                }
                for part in parts
            ],
        }

    def completeMultipartUploadArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        md5_hex = complete_multipart(
            self.ctx.store,
            self.ctx.blobs,
            self.ctx.access,
            input["uploadID"],
            input["completedParts"],
        )
        return {"digest": hex_to_b64(md5_hex)}

    def commitArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        artifact_id = decode_id(input["artifactID"], "Artifact")
        row = commit_version(self.ctx.access, self.ctx.blobs, artifact_id)
        return {"artifact": artifacts.ArtifactNode(self.ctx, row)}
