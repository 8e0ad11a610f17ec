"""Dagster assets as versioned W&B Artifacts.

The three layers import separately: :mod:`dagster_wandb_artifacts.client` (the W&B public
API for artifacts, on requests), :mod:`dagster_wandb_artifacts.server` (the embedded
W&B-compatible server) and the Dagster layer exported here.
"""

__version__ = "0.1.0"
