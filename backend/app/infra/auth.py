"""API keys: `Authorization: Bearer <key>` or `X-API-Key: <key>`, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from app.config import ANONYMOUS_CLIENT, ApiKey


@dataclass(frozen=True)
class Client:
    """Who is calling. In open mode (no keys configured) every caller is an anonymous admin."""

    name: str
    is_admin: bool


ANONYMOUS = Client(name=ANONYMOUS_CLIENT, is_admin=True)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class Authenticator:
    def __init__(self, client_keys: list[ApiKey], admin_keys: list[ApiKey]) -> None:
        self._keys = [(_digest(k.key.get_secret_value()), Client(k.name, False)) for k in client_keys]
        self._keys += [(_digest(k.key.get_secret_value()), Client(k.name, True)) for k in admin_keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    @property
    def has_admin_keys(self) -> bool:
        return any(client.is_admin for _, client in self._keys)

    def identify(self, presented: str) -> Client | None:
        """The client owning `presented`; every key is compared so timing says nothing."""
        digest = _digest(presented)
        found: Client | None = None
        for key_digest, client in self._keys:
            if hmac.compare_digest(digest, key_digest):
                found = client
        return found


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return x_api_key.strip() if x_api_key and x_api_key.strip() else None
