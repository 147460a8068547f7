"""A minimal Hugging Face Hub on loopback: enough of its HTTP API for `snapshot_download`.

It serves one model repo from a local folder, streams files slowly enough for progress to be
observed, and records the Authorization headers it receives. While `gated` is set it refuses the repo
as the Hub refuses a gated one to an account that has not accepted its conditions.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_SUFFIXES = (".safetensors", ".bin")
CHUNK = 1 << 20


class FakeHub:
    def __init__(
        self, repo_id: str, folder: Path, chunk_delay_s: float = 0.0, extra_files: dict[str, bytes] | None = None
    ) -> None:
        self.repo_id = repo_id
        self.files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        self.files.update(extra_files or {})
        self.chunk_delay_s = chunk_delay_s
        self.gated = False
        self.authorizations: list[str | None] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sibling(self, name: str) -> dict:
        data = self.files[name]
        entry = {"rfilename": name, "size": len(data), "blobId": self.git_sha(data)}
        if name.endswith(LFS_SUFFIXES):
            entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return entry

    def tree_entry(self, name: str) -> dict:
        sibling = self.sibling(name)
        entry = {"type": "file", "path": name, "size": sibling["size"], "oid": sibling["blobId"]}
        if "lfs" in sibling:
            entry["lfs"] = {"oid": sibling["lfs"]["sha256"], "size": sibling["size"], "pointerSize": 134}
        return entry

    @staticmethod
    def git_sha(data: bytes) -> str:
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _file(self) -> tuple[str, bytes] | None:
                prefix = f"/{hub.repo_id}/resolve/"
                path = urlparse(self.path).path
                if not path.startswith(prefix):
                    return None
                name = path[len(prefix) :].split("/", 1)[1]
                return (name, hub.files[name]) if name in hub.files else None

            def _file_headers(self, name: str, data: bytes) -> None:
                sibling = hub.sibling(name)
                etag = sibling["lfs"]["sha256"] if "lfs" in sibling else sibling["blobId"]
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()

            def _refused(self) -> bool:
                if not hub.gated:
                    return False
                body = b'{"error": "Access to this model is restricted"}'
                self.send_response(403)
                self.send_header("X-Error-Code", "GatedRepo")
                self.send_header("X-Error-Message", f"Access to model {hub.repo_id} is restricted.")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return True

            def _json(self, payload: object) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self) -> None:
                hub.authorizations.append(self.headers.get("Authorization"))
                if self._refused():
                    return
                found = self._file()
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self._file_headers(*found)

            def do_GET(self) -> None:
                hub.authorizations.append(self.headers.get("Authorization"))
                if self._refused():
                    return
                path = urlparse(self.path).path
                if path.startswith(f"/api/models/{hub.repo_id}/tree/"):
                    self._json([hub.tree_entry(n) for n in hub.files])
                    return
                if path == f"/api/models/{hub.repo_id}" or path.startswith(f"/api/models/{hub.repo_id}/revision/"):
                    self._json(
                        {
                            "id": hub.repo_id,
                            "modelId": hub.repo_id,
                            "sha": COMMIT,
                            "private": False,
                            "siblings": [hub.sibling(n) for n in hub.files],
                        }
                    )
                    return
                found = self._file()
                if found is None:
                    self.send_error(404)
                    return
                name, data = found
                self.send_response(200)
                self._file_headers(name, data)
                for start in range(0, len(data), CHUNK):
                    self.wfile.write(data[start : start + CHUNK])
                    self.wfile.flush()
                    time.sleep(hub.chunk_delay_s)

        return Handler
