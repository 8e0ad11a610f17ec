"""Signed, expiring file URLs, like a cloud store's presigned URLs.

A signature binds the HTTP method, the path (one object) and the expiry time; the SDK sends
such URLs without an Authorization header, so the URL itself is the credential. Its key is the
root's secret bound to the API key: changing either invalidates every URL signed before.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlencode


def signing_key(secret: str, api_key: str) -> bytes:
    """The key URLs are signed with: the root's secret bound to the API key, so that a new
    API key (or a new secret) invalidates every URL signed before it."""
    return hmac.new(secret.encode(), api_key.encode(), hashlib.sha256).digest()


class URLSigner:
    def __init__(
        self, secret: bytes, ttl_seconds: int = 24 * 3600, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def _signature(self, method: str, path: str, expires: int) -> str:
        message = f"{method.upper()}\n{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, method: str, path: str) -> str:
        """The query string that authorises ``method`` on ``path`` until the TTL runs out."""
        expires = int(self.clock()) + self.ttl_seconds
        return urlencode({"expires": expires, "signature": self._signature(method, path, expires)})

    def check(
        self, method: str, path: str, expires: str | None, signature: str | None
    ) -> str | None:
        """None when the URL is valid, else why it is refused."""
        if not expires or not signature:
            return "this URL carries no signature"
        try:
            expires_at = int(expires)
        except ValueError:
            return "this URL's expiry is malformed"
        if not hmac.compare_digest(self._signature(method, path, expires_at), signature):
            return "this URL's signature does not match (wrong object, method or server)"
        if self.clock() > expires_at:
            return "this URL has expired: ask the server for a new one"
        return None
