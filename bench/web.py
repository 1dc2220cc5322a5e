"""The web pages: the first load of the citizens' and the expert's pages in headless Chromium on loopback.

Intake (which serves the citizens') and broadcast (whose public incidents the district page reads)
run as real processes; five incidents are public, so the district page shows five cards. The
expert's page is served by community (intake beside it, for the incident): it is loaded as an
expert opens it, from their invitation link (a redirect to the page), and is ready once the
incident and the answer buttons are shown. The departments' page (broadcast) and the analysts'
(timeline) are loaded as first opened in a tab: ready once the form asking for the token is shown. Each load is
in a fresh browser profile (nothing cached, no service worker). Bytes are what crossed the
network, compressed, headers included (Chromium's encodedDataLength for every request of the
page, its cross-origin reads of broadcast too); time to interactive is the page's own "ready"
mark (performance.mark("jikimi:ready"), set once its data is shown and its controls work), from
the start of navigation. The service worker's precache, which starts after the page is ready,
is counted apart (its resource timing, from inside the worker).

Debian's chromium must be installed (`make browser`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, async_playwright

from bench.figures import Context, Figure, Goal, percentile
from bench.services import _SECRET_KEY
from jikimi.embedded.services import running_service
from shared.auth import Role, issue_token

__all__ = ["BENCHMARKS"]

LOADS = 7
# The district page lists every public incident of Seoul until a district is chosen: some to show.
PUBLIC_INCIDENTS = (
    ("종로구 인사동 식당 주방에서 불이 났어요", 37.5740, 126.9850),
    ("마포구 망원동 주택에서 불이 났어요", 37.5560, 126.9010),
    ("강남구 역삼동 사무실 건물 엘리베이터에 사람이 갇혔어요", 37.5007, 127.0363),
    ("송파구 잠실동 도로가 물에 잠겼어요 차가 못 지나가요", 37.5133, 127.1000),
    ("관악구 신림동 공사장 가스 냄새가 심해요", 37.4842, 126.9297),
)
PLACE = {"lat": 37.4919, "lon": 127.0076}  # the expert's incident: Seocho-dong
PAGES = {
    "citizen": ("intake", "/ui/citizen/"),
    "citizen_report": ("intake", "/ui/citizen/report.html"),
    "expert": ("community", "/invitations/{token}"),  # an open invitation's link
    "department": ("broadcast", "/ui/department/"),  # as first opened: asking for the token
    "analyst": ("timeline", "/ui/analyst/"),  # as first opened: asking for the token
}
"""Each page: the service that serves it and the address a person opens."""
WORKERS = {"citizen", "citizen_report"}
"""The pages with a service worker (its precache is counted apart)."""
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


@asynccontextmanager
async def _service(ctx: Context, name: str, env: dict[str, str] | None = None) -> AsyncIterator[str]:
    started = running_service(name, ctx.database, ctx.nats, secret_key=_SECRET_KEY, env=env)
    url = await asyncio.to_thread(started.__enter__)
    try:
        yield url
    finally:
        await asyncio.to_thread(started.__exit__, None, None, None)


def _chromium() -> str:
    path = os.environ.get("JIKIMI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        msg = "Debian's chromium is not installed: run `make browser` (or `sudo apt-get install chromium`)"
        raise RuntimeError(msg)
    return path


class _Load:
    """One page load: every request's encoded bytes (by Chromium's count) and the page's times."""

    def __init__(self) -> None:
        self.bytes = 0
        self.requests = 0

    def finished(self, event: dict[str, Any]) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))
        self.requests += 1


async def _load(context: BrowserContext, url: str) -> tuple[_Load, float, float]:
    """Load ``url`` in a new tab of ``context``; its bytes, DOMContentLoaded and ready (ms)."""
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    load = _Load()
    cdp.on("Network.loadingFinished", load.finished)
    await cdp.send("Network.enable")
    await page.goto(url, wait_until="domcontentloaded")
    await page.wait_for_selector("html[data-ready]", state="attached")
    await page.wait_for_load_state("networkidle")
    times = await page.evaluate(
        """() => [performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
                 performance.getEntriesByName("jikimi:ready")[0].startTime]"""
    )
    await page.close()
    return load, float(times[0]), float(times[1])


def _publish_incidents(intake: str, broadcast: str) -> None:
    operator = {"Authorization": f"Bearer {issue_token(_SECRET_KEY.encode(), 'bench', Role.OPERATOR, ttl_s=600)}"}
    with httpx.Client(timeout=10) as client:
        for text, lat, lon in PUBLIC_INCIDENTS:
            body = {"text": text, "reporter": f"bench-{lat}", "location": {"lat": lat, "lon": lon}}
            incident = client.post(f"{intake}/reports", json=body).json()["incident_id"]
            headline = {"headline": text[:30], "instruction": "현장 주변을 피하고 안내에 따르세요."}
            client.post(f"{intake}/incidents/{incident}/public", json=headline, headers=operator).raise_for_status()
        deadline = time.monotonic() + 180  # after a whole run, broadcast first reads what earlier benchmarks left
        while len(client.get(f"{broadcast}/public/incidents").json()) < len(PUBLIC_INCIDENTS):
            if time.monotonic() > deadline:
                msg = "broadcast did not list the public incidents within 180 s"
                raise RuntimeError(msg)
            time.sleep(0.2)


async def _worker_bytes(context: BrowserContext) -> int:
    """What the service worker fetched to install (its precache), once it is active."""
    total = 0
    for worker in context.service_workers:
        entries = await worker.evaluate(
            "() => performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0)"
        )
        total += int(entries)
    return total


def _invitation_link(intake: str, community: str) -> str:
    """The token of an open invitation: a citizen's fire report, its community assembled."""
    operator = {"Authorization": f"Bearer {issue_token(_SECRET_KEY.encode(), 'bench', Role.OPERATOR, ttl_s=600)}"}
    body = {"text": "서초구 서초동 아파트 5층에서 불이 났어요", "reporter": "bench-expert", "location": PLACE}
    with httpx.Client(timeout=10, headers=operator) as client:
        incident = client.post(f"{intake}/reports", json=body).json()["incident_id"]
        deadline = time.monotonic() + 180  # after a whole run, broadcast first reads what earlier benchmarks left
        while time.monotonic() < deadline:
            answer = client.get(f"{community}/communities/{incident}")
            members = answer.json()["members"] if answer.status_code == 200 else []
            invited = [m["expert_id"] for m in members if m["status"] == "invited"]  # an open invitation's link
            if invited:
                link = client.get(f"{community}/communities/{incident}/invitations/{invited[0]}/link")
                return str(link.raise_for_status().json()["path"]).removeprefix("/invitations/")
            time.sleep(0.2)
    msg = "community invited nobody within 180 s"
    raise RuntimeError(msg)


async def _first_loads(browser: Browser, url: str, *, worker: bool = True) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"kb": [], "requests": [], "dcl": [], "ready": [], "worker_kb": []}
    for _ in range(LOADS):
        context = await browser.new_context(locale="ko-KR", viewport={"width": 390, "height": 844})
        try:
            load, dcl, ready = await _load(context, url)
            found["kb"].append(load.bytes / 1024)
            found["requests"].append(load.requests)
            found["dcl"].append(dcl)
            found["ready"].append(ready)
            if not worker:
                continue
            page = await context.new_page()
            await page.goto(url)
            await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            await page.close()
            found["worker_kb"].append(await _worker_bytes(context) / 1024)
        finally:
            await context.close()
    return found


def _figures(name: str, found: dict[str, list[float]]) -> list[Figure]:
    figures = [
        Figure(name=f"web_{name}_first_load_kb", value=round(max(found["kb"]), 1), unit="KB", goal=Goal(at_most=150)),
        Figure(name=f"web_{name}_requests", value=max(found["requests"]), unit="requests"),
        Figure(
            name=f"web_{name}_dom_content_loaded_p50_ms", value=round(statistics.median(found["dcl"]), 1), unit="ms"
        ),
        Figure(name=f"web_{name}_ready_p50_ms", value=round(statistics.median(found["ready"]), 1), unit="ms"),
        Figure(
            name=f"web_{name}_ready_max_ms",
            value=round(percentile(found["ready"], 100), 1),
            unit="ms",
            goal=Goal(at_most=1000),
        ),
    ]
    if found["worker_kb"]:
        figures.append(
            Figure(name=f"web_{name}_worker_precache_kb", value=round(max(found["worker_kb"]), 1), unit="KB")
        )
    return figures


@asynccontextmanager
async def _browser() -> AsyncIterator[Browser]:
    chromium = _chromium()
    async with async_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
        browser = await playwright.chromium.launch(executable_path=chromium, args=args, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def citizen_pages_first_load(ctx: Context) -> Sequence[Figure]:
    """First loads of the citizens' district page and report form (see the module docstring)."""
    figures: list[Figure] = []
    async with (
        _service(ctx, "broadcast") as broadcast,
        _service(ctx, "intake", {"JIKIMI_BROADCAST_URL": broadcast}) as intake,
        _browser() as browser,
    ):
        await asyncio.to_thread(_publish_incidents, intake, broadcast)
        for name, (service, path) in PAGES.items():
            if service == "intake":
                figures += _figures(name, await _first_loads(browser, intake + path, worker=name in WORKERS))
    return figures


async def expert_page_first_load(ctx: Context) -> Sequence[Figure]:
    """First load of the expert's page, opened from an invitation link (see the module docstring)."""
    figures: list[Figure] = []
    async with (
        _service(ctx, "community") as community,
        _service(ctx, "intake") as intake,
        _browser() as browser,
    ):
        token = await asyncio.to_thread(_invitation_link, intake, community)
        for name, (service, path) in PAGES.items():
            if service == "community":
                url = community + path.format(token=token)
                figures += _figures(name, await _first_loads(browser, url, worker=name in WORKERS))
    return figures


async def desk_pages_first_load(ctx: Context) -> Sequence[Figure]:
    """First load of the departments' and the analysts' pages, as first opened in a tab (no token
    yet: ready once the token's form is shown)."""
    figures: list[Figure] = []
    async with (
        _service(ctx, "broadcast") as broadcast,
        _service(ctx, "timeline") as timeline,
        _browser() as browser,
    ):
        served = {"broadcast": broadcast, "timeline": timeline}
        for name, (service, path) in PAGES.items():
            if service in served:
                figures += _figures(name, await _first_loads(browser, served[service] + path, worker=False))
    return figures


BENCHMARKS = (citizen_pages_first_load, expert_page_first_load, desk_pages_first_load)
