"""Hostile inputs through the gateway: refused with a 4xx and nothing written, or stored
and rendered harmlessly.

Control characters in every text field, oversized bodies and headers, forged
cursors, bidirectional overrides (isolated in the page) and markup (escaped).
"""

from __future__ import annotations

import base64
import html
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hostile_support import Cast

pytestmark = pytest.mark.e2e

# C0 (NUL, SOH, ESC, DEL), C1 (NEL, CSI) and a noncharacter. Newline and tab are allowed
# in free text only, so they are tried on one-line fields.
CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9b", "\ufffe"]
ONE_LINE_ONLY = ["\n", "\t", "\r"]


def _people(client: httpx.Client, cast: Cast) -> set[str]:
    items: set[str] = set()
    cursor = ""
    while True:
        r = client.get(
            "/api/v1/people", params={"limit": 200, "cursor": cursor}, headers=cast.admin.headers
        )
        assert r.status_code == 200, r.text
        items |= {p["handle"] for p in r.json()["items"]}
        cursor = r.json()["next_cursor"] or ""
        if not cursor:
            return items


def _posts_of(client: httpx.Client, who_id: str, cast: Cast) -> list[str]:
    r = client.get(f"/api/v1/people/{who_id}/posts", headers=cast.owner.headers)
    assert r.status_code == 200, r.text
    return [p["text"] for p in r.json()["items"]]


def _csrf(client: httpx.Client) -> str:
    """The sign-in form's CSRF token (its cookie stays in the client's jar)."""
    page = client.get("/ui/login").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def _refused(resp: httpx.Response, what: str) -> None:
    assert 400 <= resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers["content-type"].startswith("application/problem+json"), what


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_in_post_text(client: httpx.Client, cast: Cast, char: str) -> None:
    before = _posts_of(client, cast.owner.id, cast)
    for text in (f"hello{char}world", char, f"{char}x"):
        resp = client.post("/api/v1/posts", headers=cast.owner.headers, json={"text": text})
        _refused(resp, repr(text))
    assert _posts_of(client, cast.owner.id, cast) == before


PERSON_FIELDS = ["handle", "display_name", "title", "department", "manager_id", "email"]


@pytest.mark.parametrize("field", PERSON_FIELDS)
def test_control_characters_in_provisioning(client: httpx.Client, cast: Cast, field: str) -> None:
    before = _people(client, cast)
    for char in CONTROLS + ONE_LINE_ONLY:
        tag = uuid.uuid4().hex[:8]
        body = {"handle": f"h{tag}", "display_name": "Someone", "email": f"h{tag}@example.com"}
        body[field] = f"a{char}{body.get(field) or 'value'}"
        resp = client.post("/api/v1/people", headers=cast.admin.headers, json=body)
        _refused(resp, f"{field}={body[field]!r}")
    assert _people(client, cast) == before


@pytest.mark.parametrize("field", ["display_name", "title", "department", "manager_id", "email"])
def test_control_characters_in_profile_changes(
    client: httpx.Client, cast: Cast, field: str
) -> None:
    url = f"/api/v1/people/{cast.owner.id}"
    before = client.get(url, headers=cast.owner.headers).json()
    for char in CONTROLS + ONE_LINE_ONLY:
        # As an admin, so that e-mail is allowed at all and only the character decides.
        resp = client.patch(url, headers=cast.admin.headers, json={field: f"x{char}y"})
        _refused(resp, f"{field} with U+{ord(char):04X}")
    assert client.get(url, headers=cast.owner.headers).json() == before


@pytest.mark.parametrize("char", CONTROLS + ONE_LINE_ONLY, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_in_queries_and_paths(
    client: httpx.Client, cast: Cast, char: str
) -> None:
    h = cast.owner.headers
    for path in ("/api/v1/search/posts", "/api/v1/search/people"):
        _refused(client.get(path, params={"q": f"a{char}b"}, headers=h), f"{path} q")
    for path in ("/api/v1/people/{p}", "/api/v1/people/{p}/posts", "/api/v1/people/{p}/followers"):
        url = path.replace("{p}", quote(f"x{char}y", safe=""))
        _refused(client.get(url, headers=h), url)
    _refused(
        client.post("/api/v1/notifications/read", headers=h, json={"ids": [f"x{char}"]}),
        "mark-read id",
    )


def test_idempotency_key_with_control_characters_writes_nothing(
    client: httpx.Client, cast: Cast
) -> None:
    before = _posts_of(client, cast.owner.id, cast)
    for key in ("a\x01b", "\x7f", "k\x1b[2J"):
        headers = {**cast.owner.headers, "Idempotency-Key": key}
        resp = client.post("/api/v1/posts", headers=headers, json={"text": "keyed"})
        _refused(resp, f"Idempotency-Key {key!r}")
    assert _posts_of(client, cast.owner.id, cast) == before


def test_huge_bodies_are_413_and_write_nothing(client: httpx.Client, cast: Cast) -> None:
    before = _posts_of(client, cast.owner.id, cast)
    big = '{"text": "' + "x" * 200_000 + '"}'
    resp = client.post(
        "/api/v1/posts",
        headers={**cast.owner.headers, "content-type": "application/json"},
        content=big,
    )
    assert resp.status_code == 413, resp.text[:200]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count as it reads
        yield b'{"text": "'
        for _ in range(100):
            yield b"y" * 4096
        yield b'"}'

    resp = client.post(
        "/api/v1/posts",
        headers={**cast.owner.headers, "content-type": "application/json"},
        content=chunks(),
    )
    assert resp.status_code == 413, resp.text[:200]
    resp = client.post("/ui/login", data={"handle": "a" * 100_000, "csrf": _csrf(client)})
    assert resp.status_code == 413
    assert _posts_of(client, cast.owner.id, cast) == before


def test_long_post_is_refused_at_the_documented_limit(client: httpx.Client, cast: Cast) -> None:
    before = _posts_of(client, cast.owner.id, cast)
    resp = client.post("/api/v1/posts", headers=cast.owner.headers, json={"text": "z" * 5001})
    _refused(resp, "5001 characters")
    assert _posts_of(client, cast.owner.id, cast) == before


def test_huge_headers_are_431(client: httpx.Client, cast: Cast) -> None:
    resp = client.get("/api/v1/me", headers={**cast.owner.headers, "X-Padding": "p" * 64 * 1024})
    assert resp.status_code == 431, resp.status_code
    assert resp.headers["content-type"].startswith("application/problem+json")


FORGED_CURSORS = [
    "garbage",
    "%%%",
    base64.urlsafe_b64encode(b'{"after": "x"}').decode(),
    base64.urlsafe_b64encode(b"\x00" * 40).decode(),
    base64.urlsafe_b64encode(b"2026-01-01T00:00:00|not-a-uuid").decode(),
    "A" * 512,
    "'; DROP TABLE posts; --",
]
CURSOR_LISTS = [
    "/api/v1/people",
    "/api/v1/people/{owner}/followers",
    "/api/v1/people/{owner}/following",
    "/api/v1/people/{owner}/posts",
    "/api/v1/timeline/home",
    "/api/v1/notifications",
    "/api/v1/search/posts",
    "/api/v1/search/people",
]


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_forged_cursors_are_400(client: httpx.Client, cast: Cast, path: str) -> None:
    url = path.replace("{owner}", cast.owner.id)
    q = {"q": "x"} if "/search/" in path else {}
    for cursor in FORGED_CURSORS:
        resp = client.get(url, params={**q, "cursor": cursor}, headers=cast.owner.headers)
        assert resp.status_code == 400, f"{url} cursor={cursor!r}: {resp.status_code} {resp.text}"
        assert resp.headers["content-type"].startswith("application/problem+json")
    resp = client.get(url, params={**q, "cursor": "A" * 513}, headers=cast.owner.headers)
    assert resp.status_code == 422  # over the documented maximum length


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}} {% raw %}",
]


def test_markup_in_posts_and_names_is_escaped_in_the_page(client: httpx.Client, cast: Cast) -> None:
    h = cast.owner.headers
    for payload in XSS:
        resp = client.post("/api/v1/posts", headers=h, json={"text": f"look {payload} here"})
        assert resp.status_code == 201, resp.text
        assert resp.json()["text"] == f"look {payload} here"  # stored as text, not sanitised
    name = '<img src=x onerror=alert("name")>'
    url = f"/api/v1/people/{cast.owner.id}"
    old = client.get(url, headers=h).json()["display_name"]
    assert client.patch(url, headers=h, json={"display_name": name}).status_code == 200
    try:
        for page in (f"/u/{cast.owner.handle}", "/"):
            body = client.get(page, headers=h).text
            for payload in [*XSS[:3], name]:
                assert payload not in body, f"{page} renders {payload!r} unescaped"
            assert html.escape(XSS[0], quote=False) in body
            assert "49" not in body.split("{{7*7}}")[0][-5:]  # no template evaluation
        # Reflected inputs: the search box and the sign-in error.
        body = client.get("/search", params={"q": XSS[1]}, headers=h).text
        assert XSS[1] not in body
        body = client.post("/ui/login", data={"handle": XSS[0], "csrf": _csrf(client)}).text
        assert "No one has that handle" in body and XSS[0] not in body
    finally:
        client.patch(url, headers=h, json={"display_name": old})


def test_bidi_overrides_are_isolated_in_the_page(client: httpx.Client, cast: Cast) -> None:
    """RLO/LRI are legitimate in text (Arabic, Hebrew) but must not reorder the page
    around them: people's text sits in an isolating element."""
    text = f"safe \u202etxt.exe\u202c and \u2067isolate\u2069 {uuid.uuid4().hex[:6]}"
    resp = client.post("/api/v1/posts", headers=cast.owner.headers, json={"text": text})
    assert resp.status_code == 201, resp.text
    body = client.get(f"/u/{cast.owner.handle}", headers=cast.owner.headers).text
    at = body.index("txt.exe")
    opening = body.rfind("<", 0, body.rfind('class="post-text"', 0, at) + 1)
    element = body[opening : body.index(">", opening) + 1]
    assert 'dir="auto"' in element or element.startswith("<bdi"), element


def test_sign_in_needs_the_forms_csrf_token(
    client: httpx.Client, base_url: str, cast: Cast
) -> None:
    token = _csrf(client)
    with httpx.Client(base_url=base_url, timeout=15) as victim:
        # A cross-site form cannot read the victim's cookie: it sends its own token.
        _csrf(victim)
        resp = victim.post("/ui/login", data={"handle": cast.owner.handle, "csrf": token})
        assert resp.status_code == 403
        assert "hallway_token" not in resp.cookies
    resp = client.post("/ui/login", data={"handle": cast.owner.handle, "csrf": "x" * 43})
    assert resp.status_code == 403 and "hallway_token" not in resp.cookies
    resp = client.post("/ui/login", data={"handle": cast.owner.handle, "csrf": token})
    assert resp.status_code == 303 and resp.cookies.get("hallway_token")


@pytest.mark.parametrize("char", CONTROLS + ONE_LINE_ONLY, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_in_the_sign_in_form(client: httpx.Client, char: str) -> None:
    resp = client.post("/ui/login", data={"handle": f"ow{char}ner", "csrf": _csrf(client)})
    assert 400 <= resp.status_code < 500, resp.status_code
    assert "hallway_token" not in resp.cookies


@pytest.mark.parametrize(
    "body",
    [
        '{"text": ' + "[" * 20_000 + "]" * 20_000 + "}",
        '{"text": "\\ud800"}',  # a lone surrogate
        '{"text": 1e999999}',
        "\xff\xfe{",
        "[]",
        "null",
    ],
    ids=[
        "deep nesting",
        "lone surrogate",
        "huge number",
        "not utf-8",
        "array",
        "null",
    ],
)
def test_malformed_json_is_4xx(client: httpx.Client, cast: Cast, body: str) -> None:
    before = _posts_of(client, cast.owner.id, cast)
    resp = client.post(
        "/api/v1/posts",
        headers={**cast.owner.headers, "content-type": "application/json"},
        content=body.encode("utf-8", "surrogateescape") if body[0] != "\xff" else b"\xff\xfe{",
    )
    _refused(resp, body[:40])
    assert _posts_of(client, cast.owner.id, cast) == before
