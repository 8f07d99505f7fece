"""The web app in a real browser (Debian's Chromium, driven by Playwright) on the real lane:
sign in, get an inline error, fix it, submit, watch the page's own polling follow the run to
the approval gate, approve as the UI does, and see the published video on the page."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from prefect.settings import PREFECT_API_URL, temporary_settings

from reelfactory import orchestration as orch
from reelfactory.accounts import Role, add_user, brief_row
from reelfactory.db import session_for
from reelfactory.web.app import create_app
from tests.e2e.conftest import Lane

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium hangs on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
SUBMITTER = "sam.submit@aurora-coffee.example"  # submits for aurora-coffee; not an approver
APPROVER = "maya.chen@aurora-coffee.example"  # listed in the kit's approvers
TITLE = "Browser-made Sunrise Blend teaser"  # unique: brief ids are content-derived
RUN_TIMEOUT_S = 240
UI_TIMEOUT_MS = 15_000
# The order phases come in on the way to publication (reelfactory.web.status).
FORWARD = ["queued", "rendering", "in review", "waiting for approval", "approved", "published"]


@pytest.fixture
def web_url(lane: Lane) -> Iterator[str]:
    """The app for the lane, served by uvicorn on 127.0.0.1 from a background thread."""
    # The app binds its Prefect calls to the API current when it is created, and brings
    # the lane's database to head (its accounts tables included).
    with temporary_settings(updates={PREFECT_API_URL: lane.api_url}):
        app = create_app(lane.settings)
    with session_for(lane.settings.db_url) as session:
        add_user(session, SUBMITTER, password=PASSWORD, grants=[(Role.SUBMITTER, "aurora-coffee")])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="reel-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, web_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=web_url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def watch_phases(page: Page, until: str, timeout_s: float) -> list[str]:
    """The distinct ``#phase`` texts the page shows, in order, until it shows ``until``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = (page.locator("#phase").text_content(timeout=UI_TIMEOUT_MS) or "").strip()
        if not seen or seen[-1] != text:
            seen.append(text)
        if text == until:
            return seen
        assert text in FORWARD[: FORWARD.index(until)], f"unexpected phase: {seen}"
        page.wait_for_timeout(250)
    raise AssertionError(f"#phase never read {until!r} within {timeout_s:.0f} s: {seen}")


def approve(api_url: str, flow_run_id: str) -> None:
    """``orch.resume`` as an approver, on a thread of its own.

    Playwright's sync API keeps an asyncio loop running on this thread, and Prefect's
    ``resume_flow_run`` (``async_dispatch``) then returns an un-awaited coroutine instead
    of resuming: the run would wait for approval until it expired.
    """
    failed: list[BaseException] = []

    def resume() -> None:
        try:
            with temporary_settings(updates={PREFECT_API_URL: api_url}):
                orch.resume(flow_run_id, approver=APPROVER, decision="approve", notes="ok")
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=resume, name="approver")
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "resuming the run took over 60 s"
    if failed:
        raise failed[0]


def fill_brief(page: Page, duration_s: str) -> None:
    page.select_option("#brand", "aurora-coffee")
    page.select_option("#format", "social-teaser-15")
    page.fill("#duration_s", duration_s)
    page.check('input[name="aspect_ratios"][value="16:9"]')
    page.fill("#title", TITLE)
    page.fill("#message", "Slow mornings taste better with Sunrise Blend.")
    page.fill("#audience", "Home brewers")
    page.fill("#call_to_action", "Order at aurora.example")


def test_brief_from_browser_form_to_published_video(
    lane: Lane, page: Page, web_url: str, tmp_path: Path
) -> None:
    # Sign in: every page redirects to /login first.
    page.goto("/briefs/new")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#email", SUBMITTER)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{web_url}/briefs/new")
    expect(page.locator("header .who")).to_have_text(SUBMITTER)

    # A duration the 15-second teaser cannot take: an inline error, values kept.
    fill_brief(page, duration_s="45")
    page.get_by_role("button", name="Submit brief").click()
    error = page.locator("#duration_s-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#duration_s")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#duration_s")).to_have_value("45")
    expect(page.locator("#title")).to_have_value(TITLE)
    expect(page.locator("#audience")).to_have_value("Home brewers")
    expect(page.locator('input[name="aspect_ratios"][value="16:9"]')).to_be_checked()
    expect(page.locator("#title-error")).to_have_count(0)

    # Fixed, it starts a run and lands on the brief's page.
    page.fill("#duration_s", "15")
    page.locator('button[name="action"][value="submit"]').click()
    expect(page).to_have_url(re.compile(r"/briefs/(?!new$)[^/?#]+$"))
    brief_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("#state")).to_have_attribute("data-final", "false")

    # The page's own polling follows the run on the real server to the approval gate.
    seen = watch_phases(page, "waiting for approval", RUN_TIMEOUT_S)
    assert seen[-1] == "waiting for approval"
    assert seen[0] in ("queued", "rendering") and "rendering" in seen, seen
    assert [FORWARD.index(p) for p in seen] == sorted(FORWARD.index(p) for p in seen), seen
    assert page.locator("#videos").count() == 0  # nothing published before approval

    # Approve through the API the Prefect UI's resume form uses.
    with session_for(lane.settings.db_url) as session:
        row = brief_row(session, brief_id)
    assert row is not None and row.submitted_by == SUBMITTER and row.flow_run_id
    approve(lane.api_url, row.flow_run_id)

    # Final: the page reloads itself and shows the published cut.
    watch_phases(page, "published", RUN_TIMEOUT_S)
    expect(page.locator("#state")).to_have_attribute("data-final", "true")
    video = page.locator("#videos video")
    expect(video).to_have_count(1)
    src = video.get_attribute("src")
    assert src and src.startswith(f"/briefs/{brief_id}/media/"), src
    # The media route redirects to a short-lived S3 link; the session cookie goes along.
    resp = page.request.get(src)
    assert resp.status == 200, (resp.status, resp.url)
    assert len(resp.body()) > 1000
    # The browser itself loads the cut through that redirect (the CSP allows the S3 origin).
    page.wait_for_function(
        "v => v.readyState >= 1 && v.videoWidth > 0", arg=video.element_handle(), timeout=30_000
    )
    width = video.evaluate("v => v.videoWidth")
    assert isinstance(width, int) and width > 0
    expect(page.locator("#main")).to_contain_text(APPROVER)  # the decision, in the history

    shot = tmp_path / "brief.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
