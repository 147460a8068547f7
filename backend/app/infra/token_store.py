"""The Hugging Face token, persisted in `MODEL_CACHE_DIR/.hf_token` (mode 0600), never shown in clear."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path

from pydantic import SecretStr

from app.config import check_hf_token
from app.errors import InvalidRequestError

logger = logging.getLogger("app.token_store")


class TokenStore:
    """The token is held as a `SecretStr` (it prints as `**********`); `get()` gives it in clear, for the Hub."""

    def __init__(self, path: Path, initial: SecretStr | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        if initial is not None and initial.get_secret_value():
            self.set(initial.get_secret_value())
        else:
            self._token = self._read_saved()

    def _read_saved(self) -> SecretStr | None:
        """The saved token; a file that does not hold a valid one is ignored (and said so in the log)."""
        try:
            saved = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("ignoring the saved Hugging Face token in %s: %s", self.path, exc)
            return None
        if not saved:
            return None
        try:
            return SecretStr(check_hf_token(saved))
        except ValueError as exc:
            logger.warning("ignoring the saved Hugging Face token in %s: %s", self.path, exc)
            return None

    def get(self) -> str | None:
        with self._lock:
            return None if self._token is None else self._token.get_secret_value()

    def set(self, token: str | None) -> None:
        """Store (or with None/empty, remove) the token. An invalid token is a 400 and changes nothing; the
        file is replaced atomically (a temporary file beside it, mode 0600 from the start, then a rename),
        so a failed write keeps the previous token on disk and in memory."""
        token = (token or "").strip() or None
        if token is not None:
            try:
                token = check_hf_token(token)
            except ValueError as exc:
                raise InvalidRequestError(str(exc), param="token") from None
        with self._lock:
            if token is None:
                self.path.unlink(missing_ok=True)
            else:
                self._write(token)
            self._token = None if token is None else SecretStr(token)

    def _write(self, token: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f"{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:  # mkstemp creates it with mode 0600
                handle.write(token)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise

    def describe(self) -> dict[str, object]:
        token = self.get()
        return {"configured": token is not None, "last4": token[-4:] if token else None}
