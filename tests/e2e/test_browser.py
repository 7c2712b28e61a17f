"""The web page in a real (headless) Chromium at phone size, against the real stack.

Bob signs in, posts mentioning Cat; the post shows in his feed without a reload;
Cat's unread badge updates live (Server-Sent Events) and her notifications page and
a search show the post. User text is rendered as text, never as markup.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import LOGS, ROOT, System, eventually

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    """Debian's Chromium, installed by the project's own script when missing."""
    proc = subprocess.run(
        [str(ROOT / "scripts" / "tools" / "chromium.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


async def _sign_in(browser: Browser, base: str, handle: str) -> Page:
    context = await browser.new_context(viewport=PHONE, base_url=base)
    page = await context.new_page()
    await page.goto("/ui/login")
    await page.fill("#handle", handle)
    await page.click("form[action='/ui/login'] button[type=submit]")
    await expect(page.locator("#compose-text")).to_be_visible()
    return page


async def test_post_and_live_badge_in_a_real_browser(system: System, unique: str) -> None:
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        stub = pb_grpc.ProfileServiceStub(ch)
        bob = await stub.CreatePerson(
            pb.CreatePersonRequest(handle=f"wb{unique}", display_name="Web Bob")
        )
        cat = await stub.CreatePerson(
            pb.CreatePersonRequest(handle=f"wc{unique}", display_name="Web Cat")
        )

    async def feed_knows_both() -> bool:
        conn = await asyncpg.connect(system.dsns["feed"])
        try:
            n = await conn.fetchval(
                "SELECT count(*) FROM people WHERE id = ANY($1::uuid[])", [bob.id, cat.id]
            )
        finally:
            await conn.close()
        return n == 2

    await eventually(feed_knows_both, within=60, what="feed replicated the people")
    base = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            cat_page = await _sign_in(browser, base, cat.handle)
            badge = cat_page.locator("#unread-badge")
            await expect(badge).to_be_hidden()

            bob_page = await _sign_in(browser, base, bob.handle)
            text = f"Browser hello @{cat.handle} #ui{unique} <b>not bold</b>"
            await bob_page.fill("#compose-text", text)
            await bob_page.click("#compose button[type=submit]")
            post = bob_page.locator("[data-feed] article.post").first
            await expect(post).to_contain_text("<b>not bold</b>")  # shown as text
            assert await post.locator("b").count() == 0

            # Live: no reload of Cat's page.
            await expect(badge).to_be_visible(timeout=30_000)
            await expect(badge.locator("[data-count]")).to_have_text("1")
            LOGS.mkdir(parents=True, exist_ok=True)
            await cat_page.screenshot(path=str(Path(LOGS) / "browser-cat-home.png"))

            await cat_page.goto("/notifications")
            await expect(cat_page.locator("main")).to_contain_text("Browser hello")

            async def searchable() -> bool:
                await cat_page.goto(f"/search?q=%23ui{unique}")
                return await cat_page.locator("main article.post").count() > 0

            await eventually(searchable, within=60, what="post found on the search page")
        finally:
            await browser.close()
