"""The web page: dev sign-in, escaping of user text, static assets."""

from __future__ import annotations

import re

from gateway_fakes import harness

from hallway_gateway.auth import COOKIE_NAME
from hallway_gateway.web import (
    CSRF_COOKIE,
    SECURE_CSRF_COOKIE,
    highlight_segments,
    text_segments,
)


def _csrf(h) -> str:  # type: ignore[no-untyped-def]
    """The sign-in form's CSRF token (the page sets the cookie and embeds the value)."""
    form = h.client.get("/ui/login")
    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert match and h.client.cookies.get(CSRF_COOKIE) == match.group(1)
    return match.group(1)


def _login(h, handle: str, csrf: str | None = None):  # type: ignore[no-untyped-def]
    token = _csrf(h) if csrf is None else csrf
    return h.client.post(
        "/ui/login",
        content=f"handle={handle}&csrf={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_pages_redirect_to_sign_in() -> None:
    h = harness()
    for path in ("/", "/people", "/search?q=x", "/notifications", "/u/ada"):
        resp = h.client.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"


def test_dev_login_sets_cookie_and_shows_feed() -> None:
    h = harness()
    ada = h.profile.add("ada", "Ada <Lovelace>")
    h.feed.add(ada.id, 'hello <script>alert("x")</script> @bob #launch')
    form = h.client.get("/ui/login")
    assert form.status_code == 200 and "ada" in form.text
    resp = _login(h, "ada")
    assert resp.status_code == 303
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    page = h.client.get("/")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "Ada &lt;Lovelace&gt;" in page.text
    assert 'href="/u/bob"' in page.text and 'href="/t/launch"' in page.text
    assert "data-delete-post" in page.text  # own post


def test_unknown_handle_and_disabled_dev_login() -> None:
    h = harness()
    assert _login(h, "nobody").status_code == 404
    off = harness(dev_login=False)
    off.profile.add("ada")
    resp = _login(off, "ada", csrf="x")
    assert resp.status_code == 403 and f"{COOKIE_NAME}=" not in resp.headers.get("set-cookie", "")


def test_sign_in_and_sign_out_need_the_forms_csrf_token() -> None:
    h = harness()
    ada = h.profile.add("ada")
    _csrf(h)
    for forged in ("", "A" * 43):  # missing, or not the cookie's
        resp = _login(h, "ada", csrf=forged)
        assert resp.status_code == 403 and COOKIE_NAME not in resp.headers.get("set-cookie", "")
    h.client.cookies.delete(CSRF_COOKIE)
    assert _login(h, "ada", csrf="A" * 43).status_code == 403  # no cookie at all
    assert _login(h, "ada").status_code == 303
    h.client.cookies.set(COOKIE_NAME, h.token(ada))
    out = h.client.post(
        "/ui/logout",
        content="csrf=nope",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert out.status_code == 403
    token = re.search(r'name="csrf" value="([^"]+)"', h.client.get("/").text).group(1)  # type: ignore[union-attr]
    out = h.client.post(
        "/ui/logout",
        content=f"csrf={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert out.status_code == 303 and f'{COOKIE_NAME}=""' in out.headers["set-cookie"]


def test_every_response_carries_the_security_headers() -> None:
    h = harness(cookie_secure=True)
    for path in ("/ui/login", "/api/v1/openapi.json", "/healthz", "/nope"):
        headers = h.client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert headers["strict-transport-security"].startswith("max-age="), path
        assert "server" not in headers, path
    assert "strict-transport-security" not in harness().client.get("/healthz").headers


def test_oversized_request_headers_get_431() -> None:
    h = harness(max_header_bytes=4096)
    resp = h.client.get("/api/v1/me", headers={"X-Padding": "x" * 5000})
    assert resp.status_code == 431
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_other_pages_render() -> None:
    h = harness()
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    h.feed.add(bob.id, "shipping it")
    h.client.cookies.set(COOKIE_NAME, h.token(ada))
    assert "bob" in h.client.get("/people").text
    person = h.client.get("/u/bob")
    assert (
        person.status_code == 200
        and "shipping it" in person.text
        and 'data-follow="' in person.text
    )
    search = h.client.get("/search", params={"q": "shipping"})
    assert "<mark>shipping</mark>" in search.text
    # Communities and comments are searched too, each linked to its page.
    assert "About shipping" in search.text and 'href="/c/' in search.text
    assert 'id="comments-title"' in search.text and "said <mark>shipping</mark>" in search.text
    assert h.client.get("/notifications").status_code == 200
    assert h.client.get("/u/nobody").status_code == 404


def test_static_assets_are_local() -> None:
    h = harness()
    js = h.client.get("/static/app.js")
    css = h.client.get("/static/app.css")
    assert js.status_code == css.status_code == 200
    assert ".innerHTML" not in js.text and "insertAdjacentHTML" not in js.text
    assert "http" not in css.text


def test_segments() -> None:
    assert text_segments("hi @ada see #q3!") == [
        ("text", "hi "),
        ("mention", "@ada"),
        ("text", " see "),
        ("tag", "#q3"),
        ("text", "!"),
    ]
    assert highlight_segments("a <em>b</em> <i>c</i>") == [
        (False, "a "),
        (True, "b"),
        (False, " <i>c</i>"),
    ]


def test_secure_cookies_use_the_host_prefix_for_csrf() -> None:
    h = harness(cookie_secure=True)
    resp = h.client.get("/ui/login")
    cookie = next(c for c in resp.headers.get_list("set-cookie") if "csrf" in c)
    assert cookie.startswith(f"{SECURE_CSRF_COOKIE}=")  # no sibling subdomain can set it
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert resp.headers["strict-transport-security"].startswith("max-age=")


def test_search_page_isolates_bidirectional_text() -> None:
    """A right-to-left override in a name, a post or the query cannot reorder the page."""
    h = harness()
    rlo = "\u202e"
    ada = h.profile.add("ada", f"{rlo}evil")
    h.feed.add(ada.id, f"shipping {rlo}reversed")
    _login(h, "ada")
    page = h.client.get("/search", params={"q": f"shipping{rlo}"}).text
    assert f"<bdi>shipping{rlo}</bdi>" in page  # the query in the heading
    page = h.client.get("/search", params={"q": "shipping"}).text
    assert f"<bdi>{rlo}evil</bdi>" in page  # the author of a hit
    assert '<p class="post-text" dir="auto">' in page  # the hit's text
