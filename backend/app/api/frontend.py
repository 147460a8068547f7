"""The dashboard: the built single-page app in FRONTEND_DIST, served at `/` beside the API.

It answers only what no route matched (the router's default handler, not a mount: a mount at `/` would
also take the API's paths that exist for another method, turning their 405 into its own answer):

- a file of the build as it is; `assets/` holds Vite's content-hashed files, cached for a year
  (`immutable`), everything else is revalidated on every use (`no-cache`), `index.html` first of all;
- any other GET or HEAD path without an extension (`/models`, `/jobs/job_abc`) gets `index.html`,
  whose app routes it in the browser;
- a missing file with an extension, and every path the API owns (`/v1`, `/api`, `/health`, the API
  documents), a 404 in the error envelope, as without a dashboard.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

logger = logging.getLogger("app.api.frontend")

API_PREFIXES = ("/v1", "/api", "/health", "/docs", "/redoc", "/openapi.json")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
INDEX = "index.html"


def owned_by_api(path: str) -> bool:
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in API_PREFIXES)


class DashboardFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        if owned_by_api(scope["path"]):
            raise HTTPException(status_code=404)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or PurePosixPath(path).suffix:
                raise
            path = INDEX
            response = await super().get_response(path, scope)
        hashed = PurePosixPath(path).parts[:1] == ("assets",)
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        return response


def serve_dashboard(app: FastAPI, dist: Path | None) -> bool:
    """Serve the build in `dist` for every request no route matches; False when there is none to serve."""
    if dist is None:
        return False
    if not (dist / INDEX).is_file():
        logger.warning("FRONTEND_DIST=%s has no index.html; the dashboard is not served", dist)
        return False
    files = DashboardFiles(directory=dist)
    not_found = app.router.not_found

    async def unmatched(scope: Scope, receive: Receive, send: Send) -> None:
        handler = files if scope["type"] == "http" else not_found
        await handler(scope, receive, send)

    app.router.default = unmatched
    return True
