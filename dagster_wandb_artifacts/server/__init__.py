"""The embedded W&B-compatible artifact server (GraphQL and file endpoints).

Start one in a background thread with :class:`LocalServer`, or from the shell with
``dagster-wandb-artifacts server --root DIR``.
"""

from .limits import Limits, limits_from
from .local import DEFAULT_ENTITY, LocalServer, api_key_path

__all__ = ["DEFAULT_ENTITY", "Limits", "LocalServer", "api_key_path", "limits_from"]
