"""The ``secret`` of signed file URLs: a compact HS256 token (JWT-shaped).

``header.payload.signature``, each part base64url without padding; the
payload names the file and its expiry (``exp``, Unix seconds). The header
encodes to ``eyJ...`` like the doc's example URLs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Literal, cast

__all__ = ["URL_LIFETIME", "issue_token", "verify_token"]

URL_LIFETIME = 3600  # the doc: a signed URL expires after 1 hour

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, signing_input: str) -> str:
    return _b64(hmac.new(key, signing_input.encode("utf-8"), hashlib.sha256).digest())


def issue_token(key: bytes, file: str, expires: int) -> str:
    """A token granting ``file`` (like ``"tickets/ticket_a3f9b.png"``) until ``expires``."""
    header = _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64(json.dumps({"file": file, "exp": expires}, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{_sign(key, signing_input)}"


def verify_token(
    key: bytes, token: str, file: str, now: float
) -> Literal["ok", "invalid", "expired"]:
    """Whether ``token`` grants ``file`` at time ``now``."""
    parts = token.split(".")
    if len(parts) != 3:
        return "invalid"
    header, payload, signature = parts
    if not hmac.compare_digest(_sign(key, f"{header}.{payload}"), signature):
        return "invalid"
    try:
        claims: Any = json.loads(_unb64(payload))
    except ValueError:
        return "invalid"
    if not isinstance(claims, dict):
        return "invalid"
    payload_claims = cast("dict[str, Any]", claims)
    if payload_claims.get("file") != file:
        return "invalid"
    expires: Any = payload_claims.get("exp")
    if not isinstance(expires, int):
        return "invalid"
    return "ok" if now < expires else "expired"
