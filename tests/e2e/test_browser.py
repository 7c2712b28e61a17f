"""The web page in a real (headless) Chromium at phone size, against the real stack.

Bob signs in, posts mentioning Cat; the post shows in his feed without a reload;
Cat's unread badge updates live (Server-Sent Events) and her notifications page and
a search show the post. User text is rendered as text, never as markup.

Communities: an owner creates a private and a secret community in the directory;
another person asks to join, the owner approves on the community page, the new member
posts there and sees the post in the home feed with a link to the community; a
non-member sees the private community without its posts or members, and the secret one
as the very 404 page of a made-up id until invited; leaving hides the posts again.
No page scrolls sideways at 390 px.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def _chromium() -> AsyncIterator[Browser]:
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
            yield browser
        finally:
            await browser.close()


async def _fits(page: Page) -> None:
    """Nothing on the page is wider than the phone's screen (no sideways scrolling)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at {PHONE['width']}px"


async def _shot(page: Page, name: str) -> None:
    """A full-page screenshot in the test logs, to look at after a run."""
    LOGS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(Path(LOGS) / name), full_page=True)


async def _people(system: System, *names: str) -> list[pb.Person]:
    """People made in profile, once feed's replica knows them all."""
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        stub = pb_grpc.ProfileServiceStub(ch)
        people = [
            await stub.CreatePerson(pb.CreatePersonRequest(handle=handle, display_name=name))
            for handle, name in (n.split(":", 1) for n in names)
        ]

    async def feed_knows_all() -> bool:
        conn = await asyncpg.connect(system.dsns["feed"])
        try:
            n = await conn.fetchval(
                "SELECT count(*) FROM people WHERE id = ANY($1::uuid[])", [p.id for p in people]
            )
        finally:
            await conn.close()
        return n == len(people)

    await eventually(feed_knows_all, within=60, what="feed replicated the people")
    return people


async def _sign_in(browser: Browser, base: str, handle: str) -> Page:
    context = await browser.new_context(viewport=PHONE, base_url=base)
    page = await context.new_page()
    await page.goto("/ui/login")
    await page.fill("#handle", handle)
    await page.click("form[action='/ui/login'] button[type=submit]")
    await expect(page.locator("#compose-text")).to_be_visible()
    return page


async def test_post_and_live_badge_in_a_real_browser(system: System, unique: str) -> None:
    bob, cat = await _people(system, f"wb{unique}:Web Bob", f"wc{unique}:Web Cat")
    base = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with _chromium() as browser:
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
        await _fits(bob_page)

        # Live: no reload of Cat's page.
        await expect(badge).to_be_visible(timeout=30_000)
        await expect(badge.locator("[data-count]")).to_have_text("1")
        await _shot(cat_page, "browser-cat-home.png")

        await cat_page.goto("/notifications")
        await expect(cat_page.locator("main")).to_contain_text("Browser hello")
        await _fits(cat_page)

        async def searchable() -> bool:
            await cat_page.goto(f"/search?q=%23ui{unique}")
            return await cat_page.locator("main article.post").count() > 0

        await eventually(searchable, within=60, what="post found on the search page")
        await _fits(cat_page)


async def _create_community(page: Page, name: str, visibility: str) -> str:
    """Create a community with the directory's form; returns its id (from the page)."""
    await page.goto("/communities")
    await _fits(page)
    form = page.locator("#create-community")
    if not await form.is_visible():
        await page.get_by_text("Create a community").click()
    await page.fill("#cc-name", name)
    # A long unbroken word must wrap rather than widen the page.
    await page.fill("#cc-description", f"About {name}: <i>not italic</i> {'w' * 150}")
    await page.select_option("#cc-visibility", visibility)
    await form.locator("button[type=submit]").click()
    await page.wait_for_url("**/c/*")
    await expect(page.locator("h1")).to_have_text(name)
    await expect(page.locator(".description")).to_contain_text("<i>not italic</i>")
    await expect(page.locator(".community-head [data-visibility]")).to_have_text(
        visibility.capitalize()
    )
    return page.url.rsplit("/", 1)[-1]


def _accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))


async def test_community_flow_in_a_real_browser(system: System, unique: str) -> None:
    owner, member, outsider = await _people(
        system, f"co{unique}:Comm Owner", f"cm{unique}:Comm Member", f"cn{unique}:Comm Nonmember"
    )
    base = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    name = f"Crew {unique}"
    async with _chromium() as browser:
        own = await _sign_in(browser, base, owner.handle)
        await expect(own.locator("nav a[href='/communities']")).to_be_visible()
        crew = await _create_community(own, name, "private")
        await expect(own.locator("[data-member-count]")).to_have_text("1 member")
        await expect(own.locator("[data-members]")).to_contain_text("Comm Owner")
        await _fits(own)
        secret = await _create_community(own, f"Hideout {unique}", "secret")

        # The member finds the private community in the directory and asks to join.
        mem = await _sign_in(browser, base, member.handle)
        await mem.goto(f"/communities?q={unique}")
        row = mem.locator(f"li.community-row[data-community-id='{crew}']")
        await expect(row).to_contain_text("Private")
        await expect(row).to_contain_text("1 member")
        await expect(mem.locator(f"[data-community-id='{secret}']")).to_have_count(0)
        await _fits(mem)
        await _shot(mem, "browser-directory.png")
        await row.get_by_role("link", name=name).click()
        await expect(mem.locator("[data-members-only]")).to_be_visible()
        await mem.get_by_role("button", name="Request to join").click()
        await expect(mem.locator("[data-membership='requested']")).to_be_visible()
        await expect(mem.get_by_role("button", name="Withdraw request")).to_be_visible()
        await expect(mem.locator("#compose-text")).to_have_count(0)

        # The owner approves the request on the community page.
        await own.goto(f"/c/{crew}")
        request = own.locator(f"[data-requests] li[data-person-id='{member.id}']")
        await expect(request).to_contain_text("Comm Member")
        await _fits(own)
        await request.get_by_role("button", name="Approve").click()
        await expect(
            own.locator(f"[data-members] li[data-person-id='{member.id}']")
        ).to_be_visible()
        await expect(own.locator("[data-member-count]")).to_have_text("2 members")
        await expect(own.locator("[data-requests]")).to_contain_text("No pending requests")

        # The member posts into the community from its page.
        await mem.goto(f"/c/{crew}")
        await expect(mem.locator("[data-membership='active']")).to_be_visible()
        notify = mem.get_by_role("switch", name="Notify me of every post")
        await expect(notify).to_have_attribute("aria-checked", "false")
        await notify.click()
        await expect(notify).to_have_attribute("aria-checked", "true")
        text = f"Crew news #crew{unique} <b>not bold</b>"
        await mem.fill("#compose-text", text)
        await mem.click("#compose button[type=submit]")
        posted = mem.locator("[data-community-feed] article.post").first
        await expect(posted).to_contain_text("<b>not bold</b>")
        assert await posted.locator("b").count() == 0
        crew_post = await posted.get_attribute("data-post-id")
        await mem.reload()
        await expect(mem.locator("[data-community-feed] article.post").first).to_contain_text(
            "Crew news"
        )
        await _fits(mem)

        # ... and sees it in the home feed, linked to its community.
        async def in_home_feed() -> bool:
            await mem.goto("/")
            return await mem.locator("article.post", has_text="Crew news").count() > 0

        await eventually(in_home_feed, within=30, what="community post in the home feed")
        link = mem.locator("article.post", has_text="Crew news").locator(f"a[href='/c/{crew}']")
        await expect(link).to_have_text(name)
        await _fits(mem)

        # A non-member sees the private community, but neither its posts nor its members.
        out = await _sign_in(browser, base, outsider.handle)
        response = await out.goto(f"/c/{crew}")
        assert response is not None and response.status == 200
        await expect(out.locator("h1")).to_have_text(name)
        await expect(out.locator("[data-members-only]")).to_be_visible()
        await expect(out.locator("main")).not_to_contain_text("Crew news")
        await expect(out.locator("main")).not_to_contain_text("Comm Member")
        await expect(out.get_by_role("button", name="Request to join")).to_be_visible()
        await _fits(out)
        await _shot(out, "browser-community-outsider.png")

        # The secret community is the 404 page of an id that does not exist, to the byte.
        response = await out.goto(f"/c/{secret}")
        assert response is not None and response.status == 404
        secret_page = await response.body()
        response = await out.goto(f"/c/{uuid.uuid4()}")
        assert response is not None and response.status == 404
        assert await response.body() == secret_page
        assert f"Hideout {unique}".encode() not in secret_page
        await _fits(out)
        # So is the private community's post, opened by its address.
        response = await out.goto(f"/p/{crew_post}")
        assert response is not None and response.status == 404
        await expect(out.locator("main")).not_to_contain_text("Crew news")

        # The owner was told of the request, the member of the approval.
        async def notified(page: Page, words: str) -> bool:
            await page.goto("/notifications")
            return await page.locator("li.notification", has_text=words).count() > 0

        await eventually(lambda: notified(own, "asked to join"), within=30, what="request notice")
        note = own.locator("li.notification", has_text="asked to join").first
        await expect(note.locator(f"a[href='/c/{crew}']")).to_have_text(name)
        await _fits(own)
        await eventually(lambda: notified(mem, "let you into"), within=30, what="approval notice")

        # The owner renames and describes it in the settings.
        await own.goto(f"/c/{crew}")
        await own.get_by_text("Community settings").click()
        await own.fill("#cs-description", "Where the crew meets")
        await own.get_by_role("button", name="Save settings").click()
        await expect(own.locator(".description")).to_have_text("Where the crew meets")
        await expect(own.locator("h1")).to_have_text(name)
        await _fits(own)

        # Invited by handle, the outsider sees it and may accept.
        await own.goto(f"/c/{secret}")
        await own.fill("#invite-handle", f"@{outsider.handle}")
        await own.get_by_role("button", name="Invite").click()
        await expect(own.locator("[data-requests]")).to_contain_text("Comm Nonmember")
        await out.goto(f"/c/{secret}")
        await expect(out.locator("h1")).to_have_text(f"Hideout {unique}")
        await out.get_by_role("button", name="Accept invitation").click()
        await expect(out.locator("[data-membership='active']")).to_be_visible()

        # Leaving takes the posts away again.
        _accept_dialogs(mem)
        await mem.goto(f"/c/{crew}")
        await mem.get_by_role("button", name="Leave").click()
        await expect(mem.get_by_role("button", name="Request to join")).to_be_visible()
        await expect(mem.locator("[data-members-only]")).to_be_visible()
        await expect(mem.locator("main")).not_to_contain_text("Crew news")
        await mem.goto("/communities?mine=true")
        await expect(mem.locator(f"[data-community-id='{crew}']")).to_have_count(0)
        await _fits(mem)
        await own.goto(f"/c/{crew}")
        await _shot(own, "browser-community.png")


async def test_reactions_comments_and_topics_in_a_real_browser(system: System, unique: str) -> None:
    ana, ben = await _people(system, f"ra{unique}:React Ana", f"rb{unique}:React Ben")
    base = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    tag = f"rel{unique}"
    async with _chromium() as browser:
        ana_page = await _sign_in(browser, base, ana.handle)
        await ana_page.fill("#compose-text", f"Shipped the release #{tag}")
        await ana_page.click("#compose button[type=submit]")
        mine = ana_page.locator("[data-feed] article.post").first
        await expect(mine).to_contain_text("Shipped the release")
        await expect(mine.locator("[data-comment-count]")).to_have_text("0")
        await _fits(ana_page)

        # Ben follows the topic from its page, reached by the #tag in Ana's post.
        ben_page = await _sign_in(browser, base, ben.handle)
        await ben_page.goto(f"/u/{ana.handle}")
        await ben_page.get_by_role("link", name=f"#{tag}").click()
        await ben_page.wait_for_url(f"**/t/{tag}")
        await expect(ben_page.locator("h1")).to_have_text(f"#{tag}")

        async def topic_has_the_post() -> bool:
            await ben_page.reload()
            return await ben_page.locator("article.post", has_text="Shipped").count() > 0

        await eventually(topic_has_the_post, within=30, what="the post on its topic page")
        follow = ben_page.locator("[data-follow-topic]")
        await expect(follow).to_have_attribute("aria-pressed", "false")
        await follow.click()
        await expect(follow).to_have_attribute("aria-pressed", "true")
        await expect(ben_page.locator("[data-follower-count]")).to_have_text("1 follower")
        await ben_page.reload()
        await expect(follow).to_have_text(f"Following #{tag}")
        await _fits(ben_page)

        # A reaction toggles, and the count is drawn by the server after a reload.
        post = ben_page.locator("article.post", has_text="Shipped").first
        like = post.locator("[data-react='like']")
        await like.click()
        await expect(like).to_have_attribute("aria-pressed", "true")
        await expect(like.locator("[data-count]")).to_have_text("1")
        await post.locator("[data-react='celebrate']").click()
        await expect(post.locator("[data-react='celebrate'] [data-count]")).to_have_text("1")
        await post.locator("[data-react='celebrate']").click()
        await expect(post.locator("[data-react='celebrate'] [data-count]")).to_have_text("0")
        await ben_page.reload()
        await expect(like).to_have_attribute("aria-pressed", "true")
        await expect(like.locator("[data-count]")).to_have_text("1")
        await post.get_by_role("button", name="Who reacted").click()
        await expect(post.locator("[data-reactor-list] li")).to_have_count(1)
        await expect(post.locator("[data-reactor-list]")).to_contain_text("React Ben")
        await _fits(ben_page)
        await _shot(ben_page, "browser-topic.png")

        # Ben comments; his text is text, never markup.
        await post.get_by_role("button", name="Comments").click()
        await expect(post.locator("[data-no-comments]")).to_be_visible()
        await post.get_by_label("Write a comment").fill(
            f"Great <b>work</b> @{ana.handle} {'z' * 200}"
        )
        await post.get_by_role("button", name="Comment", exact=True).click()
        comment = post.locator("li.comment").first
        await expect(comment).to_contain_text("Great <b>work</b>")
        assert await comment.locator("b").count() == 0
        await expect(post.locator("[data-comment-count]")).to_have_text("1")
        await _fits(ben_page)

        # Ana sees it on her own page, with Ben's like, and replies in the thread.
        await ana_page.goto(f"/u/{ana.handle}")
        hers = ana_page.locator("article.post", has_text="Shipped").first
        await expect(hers.locator("[data-react='like'] [data-count]")).to_have_text("1")
        await expect(hers.locator("[data-react='like']")).to_have_attribute("aria-pressed", "false")
        await expect(hers.locator("[data-comment-count]")).to_have_text("1")
        await hers.get_by_role("button", name="Comments").click()
        await hers.get_by_role("button", name="Reply to this comment").click()
        await hers.get_by_label("Reply to React Ben").fill("Thanks!")
        await hers.get_by_role("button", name="Reply", exact=True).click()
        reply = hers.locator("li.comment .replies li.comment")
        await expect(reply).to_contain_text("Thanks!")
        await expect(hers.locator("[data-comment-count]")).to_have_text("2")
        # Ana may not edit or delete Ben's comment.
        ben_comment = hers.locator("li.comment", has_text="Great").first
        await expect(
            ben_comment.locator(":scope > .comment-actions [data-edit-comment]")
        ).to_have_count(0)
        await _fits(ana_page)

        # Ben edits his comment: marked edited, also after a reload.
        await ben_page.reload()
        await post.get_by_role("button", name="Comments").click()
        await expect(post.locator(".replies")).to_contain_text("Thanks!")
        await post.get_by_role("button", name="Edit your comment").click()
        await post.get_by_label("Edit your comment").fill("Great work, all of you")
        await post.get_by_role("button", name="Save").click()
        mark = post.locator("li.comment").first.locator("[data-edited]")
        await expect(mark).to_have_text("(edited)")
        await ben_page.reload()
        await post.get_by_role("button", name="Comments").click()
        await expect(post.locator("li.comment").first).to_contain_text("Great work, all of you")
        await expect(mark).to_be_visible()
        await _fits(ben_page)

        # Deleting his comment takes its thread along.
        _accept_dialogs(ben_page)
        await (
            post.locator("li.comment")
            .first.get_by_role("button", name="Delete your comment")
            .first.click()
        )
        await expect(post.locator("li.comment")).to_have_count(0)
        await expect(post.locator("[data-comment-count]")).to_have_text("0")

        # Ana was told of the reaction; the notice leads to the post, comments open.
        async def reacted() -> bool:
            await ana_page.goto("/notifications")
            return await ana_page.locator("li.notification", has_text="reacted").count() > 0

        await eventually(reacted, within=30, what="reaction notice")
        note = ana_page.locator("li.notification", has_text="reacted").first
        await expect(note).to_contain_text("React Ben")
        await expect(note.locator("span[title]")).to_have_count(1)  # the kind, e.g. Like
        await _fits(ana_page)
        await note.get_by_role("link", name="your post").click()
        await ana_page.wait_for_url("**/p/*")
        single = ana_page.locator("article.post")
        await expect(single).to_contain_text("Shipped the release")
        await expect(single.locator("[data-comments]")).to_be_visible()
        await expect(single.locator("[data-no-comments]")).to_be_visible()
        await _fits(ana_page)
        await _shot(ana_page, "browser-conversation.png")
