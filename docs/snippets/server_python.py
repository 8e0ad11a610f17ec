"""The embedded server from Python, and the real wandb SDK pointed at it."""

import tempfile

# --8<-- [start:local]
from dagster_wandb_artifacts.server import LocalServer

with LocalServer(tempfile.mkdtemp()) as server:
    print(server.base_url)  # a free loopback port; server.api_key is its administrator's key
    # --8<-- [end:local]
    # --8<-- [start:sdk]
    import wandb

    api = wandb.Api(overrides={"base_url": server.base_url}, api_key=server.api_key)
    # --8<-- [end:sdk]
    assert api.viewer.entity == "local"
    assert server.requests["POST graphql"] >= 1
