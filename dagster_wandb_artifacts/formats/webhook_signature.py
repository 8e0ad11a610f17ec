"""How the embedded server signs a webhook delivery, and how a receiver checks it.

The signature is the hex HMAC-SHA256, keyed by the integration's signing secret, of
``<timestamp>.<delivery id>.<body>``: a receiver that checks it knows the body is the
server's, when it was signed (so it refuses stale requests) and which delivery it is (so it
refuses a replay). A retried delivery keeps its ID and gets a new timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Wandb-Signature"
TIMESTAMP_HEADER = "X-Wandb-Timestamp"
DELIVERY_HEADER = "X-Wandb-Delivery"


def signature(secret: str, timestamp: str, delivery: str, body: bytes) -> str:
    message = f"{timestamp}.{delivery}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(
    secret: str, timestamp: str, delivery: str, body: bytes, sent: str
) -> bool:
    expected = signature(secret, timestamp, delivery, body)
    return hmac.compare_digest(expected.encode(), sent.encode())
