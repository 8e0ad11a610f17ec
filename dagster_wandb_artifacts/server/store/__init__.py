"""The server's core: the only package that runs SQL.

Several server processes may share one root (each Dagster step process can start its own
embedded server), so every write runs in a ``BEGIN IMMEDIATE`` transaction with a busy
timeout (or none, from an event loop, which then leaves the write to a worker thread), and
the database is in WAL mode so readers never block writers.

One module a domain: :mod:`.base` (schema, connections, transactions), :mod:`.runs`
(entities, projects, runs), :mod:`.collections` (types, collections, links, tags),
:mod:`.versions` (versions, manifests, objects, multipart uploads), :mod:`.commit` (committing
a version, authorized), :mod:`.automations`
(integrations, secrets, triggers, deliveries).
"""

from .base import LATEST, MANIFEST_NAME, NotFound, StoreError, is_version_alias, now
from .versions import Store

__all__ = ["LATEST", "MANIFEST_NAME", "NotFound", "Store", "StoreError", "is_version_alias", "now"]
