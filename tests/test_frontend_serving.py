"""The dashboard served at `/` from FRONTEND_DIST: files, the single-page fallback, cache headers, and the API's
own answers left as they are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import CHECKOUT, Settings, default_frontend_dist
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server, tiny_settings

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY}", "admin_api_keys": f"ops:{ADMIN_KEY}"}
INDEX = "<!doctype html><html><body><div id='root'></div><script src='/assets/app-abc123.js'></script></body></html>"
SCRIPT = "console.log('dashboard');"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built dashboard (no test changes it), beside a file that must not be served."""
    folder = tmp_path_factory.mktemp("build") / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "app-abc123.js").write_text(SCRIPT)
    (folder / "favicon.svg").write_text("<svg/>")
    (folder.parent / "secret.txt").write_text("not served")
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path, dist: Path) -> Iterator[LiveServer]:
    """One gateway serving `dist` for the tests that only read from it."""
    settings = tiny_settings(tmp_path_factory.mktemp("model_cache"), tiny_qwen_dir, frontend_dist=dist, **KEYS)
    with live_server(settings) as server:
        yield server


def test_the_app_and_its_routes_get_index_html(site: LiveServer) -> None:
    with site.client() as http:
        for path in ("/", "/models", "/jobs/x", "/jobs/job_0123/", "/index.html"):
            response = http.get(path)
            assert response.status_code == 200, path
            assert response.text == INDEX
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers["cache-control"] == "no-cache", path
        script = http.get("/assets/app-abc123.js")
        assert script.status_code == 200 and script.text == SCRIPT
        assert "javascript" in script.headers["content-type"]
        assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert http.get("/favicon.svg").headers["cache-control"] == "no-cache"
        head = http.head("/models")
        assert head.status_code == 200 and head.content == b"" and head.headers["cache-control"] == "no-cache"
        assert int(head.headers["content-length"]) == len(INDEX)
        head = http.head("/assets/app-abc123.js")
        assert head.status_code == 200 and head.headers["cache-control"].endswith("immutable")
        revalidated = http.get("/", headers={"If-None-Match": http.get("/").headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.headers["cache-control"] == "no-cache"


def test_missing_files_and_api_paths_stay_404_envelopes(site: LiveServer) -> None:
    with site.client() as anonymous, site.client(ADMIN_KEY) as admin:
        for path in ("/missing.js", "/assets/app-000000.js", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
            response = anonymous.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"
        for path in ("/v1/nope", "/api/nope", "/api/admin/nope"):
            assert anonymous.get(path).status_code == 401, path  # the key is checked first, as before
            response = admin.get(path)
            assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
        assert anonymous.get("/health/").json()["error"]["code"] == "not_found"
        assert anonymous.get("/docs/nope").status_code == 404
        assert anonymous.post("/models").status_code == 405
        assert anonymous.delete("/health").status_code == 405  # a route's other methods keep their 405


def test_the_api_answers_as_before(site: LiveServer) -> None:
    with site.client() as http:
        assert http.get("/health").json()["status"] == "ok"
        assert http.get("/openapi.json").json()["info"]["title"] == "Inference Gateway"
        assert "swagger" in http.get("/docs").text.lower()
        assert "redoc" in http.get("/redoc").text.lower()
    with site.client(CLIENT_KEY) as http:
        assert http.get("/v1/models").json()["object"] == "list"


def test_without_a_build_nothing_is_served(serve, tmp_path: Path) -> None:
    server = serve(frontend_dist=None, **KEYS)
    with server.client() as http:
        assert http.get("/").status_code == 404 and http.get("/models").status_code == 404
    empty = tmp_path / "empty"
    empty.mkdir()
    server = serve(frontend_dist=empty, **KEYS)
    with server.client() as http:
        assert http.get("/").status_code == 404


def test_the_default_build_is_found_from_the_package_not_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dist: Path
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "frontend" / "dist").mkdir(parents=True)
    assert default_frontend_dist(checkout) == checkout / "frontend" / "dist"
    assert default_frontend_dist(tmp_path / "elsewhere") is None
    assert (CHECKOUT / "backend" / "app" / "config.py").is_file()
    monkeypatch.chdir(checkout)  # a `frontend/dist` in the working directory is not the checkout's
    expected = CHECKOUT / "frontend" / "dist"
    assert Settings(_env_file=None).frontend_dist == (expected if expected.is_dir() else None)
    monkeypatch.setenv("FRONTEND_DIST", str(dist))
    assert Settings(_env_file=None).frontend_dist == dist
    monkeypatch.setenv("FRONTEND_DIST", "")
    assert Settings(_env_file=None).frontend_dist is None
