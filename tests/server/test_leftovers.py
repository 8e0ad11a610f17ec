"""What a killed server leaves on its root is removed when the next one starts there, and
nothing that a live server (another process on the same root) is still working on."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time

import requests

from dagster_wandb_artifacts.server import LocalServer
from tests.server.test_server import create_pending
from tests.support import graphql

MULTIPART_FILES = """mutation($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) { files { edges { node {
    uploadMultipartUrls { uploadID uploadUrlParts { partNumber uploadUrl } } } } } } }"""
COMPLETE = """mutation($id: String!, $md5: String!) { completeMultipartUploadArtifact(input: {
  completeMultipartAction: Complete, completedParts: [{partNumber: 1, hexMD5: $md5},
  {partNumber: 2, hexMD5: $md5}], artifactID: "x", storagePath: "x", uploadID: $id})
  { digest } }"""


def _dead_pid() -> str:
    exited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return exited.stdout.strip()


def test_a_killed_servers_partly_written_objects_are_removed_at_start(tmp_path):
    root = tmp_path / "server"
    with LocalServer(root) as server:
        create_pending(server, {"a.txt": b"stored"})
    parts = root / "storage" / ".parts"
    host = socket.gethostname()
    leftover = parts / f"{host}-{_dead_pid()}" / "7.part"
    leftover.parent.mkdir()
    leftover.write_bytes(b"half an object")
    alive = parts / f"{host}-{os.getppid()}" / "3.part"  # another live server's write
    alive.parent.mkdir()
    alive.write_bytes(b"being written")
    with LocalServer(root) as restarted:
        assert not leftover.parent.exists()
        assert alive.read_bytes() == b"being written"
        create_pending(restarted, {"b.txt": b"stored too"})
    # Writes go through the parts folder: nothing half-written ever lies beside an object.
    assert not list((root / "storage").glob("objects/**/*.part"))


def _abandoned_upload(server: LocalServer) -> str:
    """A two-part upload of which only the first part arrived; returns its id."""
    artifact = create_pending(server, {"a.txt": b"x"})
    part = b"p" * 1000
    md5 = hashlib.md5(part).hexdigest()
    whole = hashlib.md5(part + part).digest()
    spec = {
        "artifactID": artifact["id"],
        "name": "big.bin",
        "md5": base64.b64encode(whole).decode(),
        "uploadPartsInput": [{"partNumber": 1, "hexMD5": md5}, {"partNumber": 2, "hexMD5": md5}],
    }
    files = graphql(
        server, MULTIPART_FILES, {"input": {"artifactFiles": [spec], "storageLayout": "V2"}}
    )
    urls = files["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadMultipartUrls"]
    first = urls["uploadUrlParts"][0]["uploadUrl"]
    assert requests.put(first, data=part, timeout=30).ok
    return urls["uploadID"]


def test_abandoned_multipart_uploads_are_removed_at_start_once_their_urls_expired(tmp_path):
    root = tmp_path / "server"
    with LocalServer(root) as server:
        upload_id = _abandoned_upload(server)
    folder = root / "storage" / "multipart" / upload_id
    assert (folder / "00001").is_file()
    with LocalServer(root):  # its URLs are still valid: a client may still send part 2
        assert (folder / "00001").is_file()
    three_days_later = time.time() + 3 * 86400
    with LocalServer(root, clock=lambda: three_days_later) as later:
        assert not folder.exists()
        reply = requests.post(
            f"{later.base_url}/graphql",
            json={"query": COMPLETE, "variables": {"id": upload_id, "md5": "0" * 32}},
            auth=("api", later.api_key),
            timeout=30,
        ).json()
        assert "unknown multipart upload" in reply["errors"][0]["message"]
