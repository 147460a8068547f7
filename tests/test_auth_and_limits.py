"""Keys, admin separation, open mode, the start-up refusal and per-client rate limits."""

from __future__ import annotations

import pytest

from app.config import SettingsError
from app.infra.rate_limit import RateLimiter
from app.main import create_app
from tests.conftest import ADMIN_KEY, CLIENT_KEY

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY},bare-key-abcdefgh", "admin_api_keys": f"ops:{ADMIN_KEY}"}


def test_keys_and_headers(serve) -> None:
    server = serve(**KEYS)
    with server.client() as http:
        assert http.get("/health").status_code == 200
        assert http.get("/v1/models").status_code == 401
        assert http.get("/v1/models", headers={"X-API-Key": CLIENT_KEY}).status_code == 200
        assert http.get("/v1/models", headers={"Authorization": "Bearer bare-key-abcdefgh"}).status_code == 200
        assert http.get("/v1/models", headers={"Authorization": f"Basic {CLIENT_KEY}"}).status_code == 401
        assert http.get("/v1/models", headers={"X-API-Key": ADMIN_KEY}).status_code == 200
        wrong = http.get("/v1/models", headers={"X-API-Key": CLIENT_KEY + "x"})
        assert wrong.status_code == 401
        assert wrong.json()["error"] == {
            "message": "Incorrect API key provided.",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_api_key",
        }
        forbidden = http.get("/api/admin/status", headers={"X-API-Key": CLIENT_KEY})
        assert forbidden.status_code == 403 and forbidden.json()["error"]["type"] == "permission_error"
        assert http.get("/api/admin/status", headers={"X-API-Key": ADMIN_KEY}).status_code == 200


def test_client_keys_without_admin_keys_close_admin_routes(serve) -> None:
    server = serve(openai_api_keys=f"clientA:{CLIENT_KEY}")
    with server.client(CLIENT_KEY) as http:
        response = http.get("/api/admin/status")
    assert response.status_code == 403
    assert "no ADMIN_API_KEYS are configured" in response.json()["error"]["message"]


def test_open_mode_on_loopback(serve) -> None:
    server = serve()
    with server.client() as http:
        assert http.get("/v1/models").status_code == 200
        assert http.get("/api/admin/status").status_code == 200


def test_refuses_to_start_open_on_a_reachable_host(make_settings) -> None:
    with pytest.raises(SettingsError, match="ALLOW_UNAUTHENTICATED"):
        create_app(make_settings(api_host="0.0.0.0"))
    create_app(make_settings(api_host="0.0.0.0", allow_unauthenticated=True))
    create_app(make_settings(api_host="0.0.0.0", openai_api_keys=CLIENT_KEY))
    create_app(make_settings(api_host="::1"))


def test_rate_limit_gives_429_with_retry_after(serve) -> None:
    server = serve(rate_limit_rpm=3, **KEYS)
    with server.client(CLIENT_KEY) as http:
        codes = [http.get("/v1/models").status_code for _ in range(3)]
        limited = http.get("/v1/models")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 20
    error = limited.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limit_exceeded"
    assert "clientA" in error["message"]
    with server.client("bare-key-abcdefgh") as other:
        assert other.get("/v1/models").status_code == 200
    with server.client(ADMIN_KEY) as admin:
        assert admin.get("/api/admin/status").status_code == 200


def test_rate_limiter_refills_over_time() -> None:
    now = [100.0]
    limiter = RateLimiter(rpm=60, now=lambda: now[0])
    assert all(limiter.hit("a") is None for _ in range(60))
    wait = limiter.hit("a")
    assert wait == pytest.approx(1.0)
    now[0] += 0.5
    assert limiter.hit("a") == pytest.approx(0.5)
    now[0] += 0.6
    assert limiter.hit("a") is None
    assert limiter.hit("b") is None
    assert RateLimiter(rpm=0).hit("a") is None
    assert RateLimiter.retry_after_header(0.2) == 1 and RateLimiter.retry_after_header(2.1) == 3
