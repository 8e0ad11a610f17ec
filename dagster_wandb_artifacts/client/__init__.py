"""The W&B public API for artifacts, on ``requests``: no ``wandb`` SDK, no ``dagster``.

Names, arguments and behaviour follow ``wandb.Api`` and ``wandb.Artifact``::

    from dagster_wandb_artifacts.client import Api, Artifact

    api = Api(overrides={"entity": "me", "project": "demo"})
    run = api.create_run(job_type="prepare")
    artifact = Artifact("dataset", type="dataset")
    artifact.add_dir("data/")
    run.log_artifact(artifact)
    run.finish()
    api.artifact("dataset:latest").download()
"""

from ..formats.manifest import Manifest, ManifestEntry
from .api import Api
from .artifact import Artifact
from .cache import ArtifactCache
from .errors import (
    ArtifactFinalizedError,
    ArtifactNotLoggedError,
    AuthenticationError,
    CommError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    ServerError,
    WandbError,
)
from .files import ArtifactFile
from .projects import Project
from .reading import Entry
from .registries import Registry
from .run import Run
from .transfer import TransferSettings
from .transport import RetryPolicy

__all__ = [
    "Api",
    "Artifact",
    "ArtifactCache",
    "ArtifactFile",
    "ArtifactFinalizedError",
    "ArtifactNotLoggedError",
    "AuthenticationError",
    "CommError",
    "Entry",
    "IntegrityError",
    "InvalidInputError",
    "Manifest",
    "ManifestEntry",
    "NotFoundError",
    "Project",
    "Registry",
    "RetryPolicy",
    "Run",
    "ServerError",
    "TransferSettings",
    "WandbError",
]
