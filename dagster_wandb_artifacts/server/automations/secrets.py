"""Team secrets at rest: encrypted with Fernet (``cryptography``), under a key kept outside
the database (``ROOT/secrets-key``, mode 0600, or the ``DAGSTER_WANDB_ARTIFACTS_SECRETS_KEY``
environment variable), so a copy of the database alone reveals no secret."""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken

from ..store import StoreError
from ..store.automations import AutomationTables

KEY_ENV = "DAGSTER_WANDB_ARTIFACTS_SECRETS_KEY"
KEY_FILE = "secrets-key"


def new_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    """Seals and opens secret values with one key."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"the secrets key (ROOT/{KEY_FILE} or ${KEY_ENV}) is not a Fernet key: "
                "32 url-safe base64-encoded bytes"
            ) from exc

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise StoreError(
                "a secret cannot be decrypted: the secrets key changed since it was stored"
            ) from exc

    def seal_plaintext_rows(self, tables: AutomationTables) -> int:
        """Encrypt the secrets an older server stored in clear; how many there were."""
        rows = tables.plaintext_secrets()
        for row in rows:
            tables.seal_secret(row["id"], self.seal(row["value"]))
        return len(rows)


def key_from_environment() -> str | None:
    return os.environ.get(KEY_ENV) or None
