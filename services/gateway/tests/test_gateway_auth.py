"""Authentication: bearer header or cookie; anything else is a 401 problem."""

from __future__ import annotations

import time

import jwt
import pytest
from gateway_fakes import ISSUER, SECRET, harness

from hallway_gateway.auth import COOKIE_NAME, decode_token, mint_token, parse_ttl
from hallway_gateway.problems import Problem


@pytest.fixture
def h():  # type: ignore[no-untyped-def]
    return harness()


def _assert_401(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 401
    assert body["type"].endswith("/unauthenticated")
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert resp.headers["www-authenticate"].startswith("Bearer")


def test_missing_token_is_401(h) -> None:  # type: ignore[no-untyped-def]
    resp = h.client.get("/api/v1/me")
    _assert_401(resp)
    assert resp.json()["instance"] == "/api/v1/me"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer "
        + jwt.encode(
            {"sub": "x", "iss": ISSUER, "exp": 9999999999},
            "other-secret-0123456789-0123456789",
            algorithm="HS256",
        ),
        "Bearer "
        + jwt.encode(
            {"sub": "x", "iss": "someone-else", "exp": 9999999999}, SECRET, algorithm="HS256"
        ),
        "Bearer " + jwt.encode({"sub": "x", "iss": ISSUER}, SECRET, algorithm="HS256"),  # no exp
        "Bearer "
        + jwt.encode({"sub": "x", "iss": ISSUER, "exp": 9999999999}, None, algorithm="none"),
    ],
    ids=["garbage", "basic", "empty", "bad-signature", "wrong-issuer", "no-exp", "alg-none"],
)
def test_invalid_tokens_are_401(h, header: str) -> None:  # type: ignore[no-untyped-def]
    _assert_401(h.client.get("/api/v1/me", headers={"Authorization": header}))


def test_expired_token_is_401(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    old = mint_token(SECRET, ISSUER, ada.id, "ada", 60, now=int(time.time()) - 3600)
    resp = h.client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    _assert_401(resp)
    assert "expired" in resp.json()["detail"]


def test_valid_bearer_and_cookie(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada", "Ada Lovelace")
    resp = h.client.get("/api/v1/me", headers=h.auth(ada))
    assert resp.status_code == 200
    assert resp.json()["handle"] == "ada"
    h.client.cookies.set(COOKIE_NAME, h.token(ada))
    assert h.client.get("/api/v1/me").json()["id"] == ada.id


def test_cookie_writes_from_another_origin_are_refused(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    h.client.cookies.set(COOKIE_NAME, h.token(ada))
    resp = h.client.post(
        "/api/v1/posts", json={"text": "hi"}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status_code == 403
    assert resp.json()["type"].endswith("/csrf")
    ok = h.client.post(
        "/api/v1/posts", json={"text": "hi"}, headers={"Origin": "http://testserver"}
    )
    assert ok.status_code == 201


def test_token_round_trip_and_roles() -> None:
    token = mint_token(SECRET, ISSUER, "p1", "ada", 60, roles=["admin"])
    principal = decode_token(token, SECRET, ISSUER)
    assert (principal.person_id, principal.handle, principal.is_admin) == ("p1", "ada", True)
    with pytest.raises(Problem):
        decode_token(token, "another-secret-0123456789-0123456789", ISSUER)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("30m", 1800), ("8h", 28800), ("7d", 604800)]
)
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "8x", "h"])
def test_parse_ttl_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ttl(text)


def test_token_command_with_person_id(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from hallway_gateway.cli import main

    monkeypatch.setenv("HALLWAY_JWT_SECRET", SECRET)
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "ada", "--person-id", "p-1", "--ttl", "1h", "--admin"])
    assert exit_info.value.code == 0
    claims = jwt.decode(
        capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"], issuer=ISSUER
    )
    assert claims["sub"] == "p-1" and claims["handle"] == "ada" and claims["roles"] == ["admin"]
    assert 3500 < claims["exp"] - claims["iat"] <= 3600
