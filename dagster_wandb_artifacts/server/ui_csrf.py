"""Forms of the web UI: a CSRF token tied to the request's credentials, and a bounded
reader of a posted form.

A browser sends basic-auth credentials with every request to the server, including one a
page of another site makes it send, so a state change needs proof that the form came from
one of our pages: a token only our pages hold. The token is an HMAC, under the server's own
key, of the request's ``Authorization`` header: it is the same for every page a session
(one user's key) shows, and useless with any other key.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

from starlette.requests import Request

#: The form field that carries the token.
FIELD = "csrf_token"
#: Bytes of a posted form read at most (descriptions are the largest values).
FORM_BYTES = 64 * 1024


class FormRefused(Exception):
    """A form without a valid token, or larger than :data:`FORM_BYTES`."""


def token(secret: str, request: Request) -> str:
    credentials = request.headers.get("authorization", "")
    message = b"web-ui-form\n" + credentials.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def read_form(request: Request, secret: str) -> dict[str, list[str]]:
    """The posted form's fields (each a list of values), after checking its token."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_BYTES:
            raise FormRefused(f"the form is larger than {FORM_BYTES} bytes")
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    sent = (fields.pop(FIELD, None) or [""])[0]
    if not hmac.compare_digest(sent.encode(), token(secret, request).encode()):
        raise FormRefused("the form's CSRF token is missing or does not match: reload the page")
    return fields
