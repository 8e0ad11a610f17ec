"""A signed webhook from the embedded server to a receiver on loopback (allowed by the
administrator), verified the way a receiver must: signature, timestamp, delivery ID."""

import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dagster_wandb_artifacts.client import Api, Artifact
from dagster_wandb_artifacts.client.automations import OnCreateArtifact, SendWebhook
from dagster_wandb_artifacts.formats.webhook_signature import signature_matches
from dagster_wandb_artifacts.server import LocalServer

SECRET = "a-long-random-signing-secret"
received, seen = [], set()
arrived = threading.Event()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))  # bounded in real code
        stamp, delivery = self.headers["X-Wandb-Timestamp"], self.headers["X-Wandb-Delivery"]
        valid = signature_matches(SECRET, stamp, delivery, body, self.headers["X-Wandb-Signature"])
        fresh = abs(time.time() - int(stamp)) < 300
        new = delivery not in seen  # remember IDs durably in real code (the receiver does)
        seen.add(delivery)
        received.append((valid and fresh and new, body))
        self.send_response(204)
        self.end_headers()
        arrived.set()

    def log_message(self, *args):
        pass


receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

# The administrator allows the loopback receiver: by default only public addresses are.
allowed = ["127.0.0.1"]
with tempfile.TemporaryDirectory() as root, LocalServer(root, webhook_allow=allowed) as server:
    api = Api(api_key=server.api_key, overrides={"base_url": server.base_url, "project": "proj"})
    api.insert_secret("SIGNING", SECRET)
    hook = api.create_webhook_integration("receiver", url, secret_ref="SIGNING")
    run = api.create_run()
    first = Artifact("model", "model")
    with first.new_file("weights.txt") as file:
        file.write("v0")
    run.log_artifact(first)
    api.create_automation(
        OnCreateArtifact(scope=api.artifact_collection("model", "model"))
        >> SendWebhook.from_integration(hook, payload={"new": "${artifact_version_string}"}),
        name="on-new-model",
    )
    second = Artifact("model", "model")
    with second.new_file("weights.txt") as file:
        file.write("v1")
    run.log_artifact(second)
    run.finish()
    assert arrived.wait(10)
receiver.shutdown()
[(accepted, body)] = received
assert accepted and body == b'{"new": "local/proj/model:v1"}', (accepted, body)
print("verified delivery:", body.decode())
