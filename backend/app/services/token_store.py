"""The Hugging Face token, persisted in `MODEL_CACHE_DIR/.hf_token` (mode 0600), never shown in clear."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def mask_token(token: str | None) -> str | None:
    return None if not token else f"…{token[-4:]}"


class TokenStore:
    def __init__(self, path: Path, initial: str | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._token: str | None = None
        if initial:
            self.set(initial)
        elif path.is_file():
            self._token = path.read_text(encoding="utf-8").strip() or None

    def get(self) -> str | None:
        with self._lock:
            return self._token

    def set(self, token: str | None) -> None:
        """Store (or with None/empty, remove) the token; the file is created with mode 0600."""
        token = (token or "").strip() or None
        with self._lock:
            self._token = token
            if token is None:
                self.path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(token)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)

    def describe(self) -> dict[str, object]:
        token = self.get()
        return {"configured": token is not None, "last4": token[-4:] if token else None}
