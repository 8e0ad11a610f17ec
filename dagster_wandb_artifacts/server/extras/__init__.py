"""W&B's extras beside artifacts and runs: sweeps, reports (views), custom charts, run queues
and jobs. Stored and served so the SDK's calls succeed, nothing run; they reach the data
through the core (:mod:`..store.workspace`, :mod:`..store.access`) like any other caller.

Their GraphQL types are in ``schema.graphql`` here, their fields in :mod:`.resolvers`.
"""

from importlib import resources

from .resolvers import WorkspaceMutations, bind


def schema_text() -> str:
    return resources.files(__name__).joinpath("schema.graphql").read_text()


__all__ = ["WorkspaceMutations", "bind", "schema_text"]
