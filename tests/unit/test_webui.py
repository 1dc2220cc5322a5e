"""The web pages' foundation without servers: what every page answer carries, the config a page
reads, cross-origin reads of public data, and the pages' own files (no inline script, every
import found, colours readable)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar, Router, get, post
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from services.intake.app import WEB
from shared.webui import COMMON, PublicReadCors, WebSettings, web_routes

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(WEB.glob("*/*.html"))
SCRIPTS = sorted([*WEB.glob("*/*.js"), *COMMON.glob("*.js")])


@pytest.fixture
def pages() -> Iterator[TestClient[Litestar]]:
    settings = WebSettings(urls={"broadcast": "https://public.example.org"})
    with TestClient(Litestar(route_handlers=web_routes("intake", WEB, settings))) as client:
        yield client


def test_a_page_comes_with_a_policy_that_allows_no_inline_script_and_sends_no_referrer(
    pages: TestClient[Litestar],
) -> None:
    answer = pages.get("/ui/citizen/report.html")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    policy = dict(part.split(" ", 1) for part in answer.headers["content-security-policy"].split("; "))
    assert policy["script-src"] == "'self'"
    assert "unsafe" not in answer.headers["content-security-policy"]
    assert "https://public.example.org" in policy["connect-src"].split()  # broadcast, where JIKIMI_BROADCAST_URL says
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-cache"


def test_pages_come_brotli_compressed_or_gzip_and_an_unchanged_one_is_a_304(pages: TestClient[Litestar]) -> None:
    brotli = pages.get("/ui/common/jikimi.css", headers={"accept-encoding": "gzip, deflate, br"})
    assert brotli.headers["content-encoding"] == "br"
    assert int(brotli.headers["content-length"]) < len(brotli.content) / 2
    assert brotli.headers["cache-control"].startswith("public, max-age=")
    gzip = pages.get("/ui/common/jikimi.css", headers={"accept-encoding": "gzip"})
    assert gzip.headers["content-encoding"] == "gzip"
    again = pages.get("/ui/common/jikimi.css", headers={"if-none-match": brotli.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["referrer-policy"] == "no-referrer"


def test_every_service_serves_the_shared_assets_and_a_folder_of_pages_at_its_name(
    pages: TestClient[Litestar],
) -> None:
    assert pages.get("/ui/common/api.js").headers["content-type"].startswith("text/javascript")
    assert '<form id="report">' in pages.get("/ui/citizen/report.html").text
    assert pages.get("/ui/citizen/").text == pages.get("/ui/citizen/index.html").text
    assert pages.get("/ui/citizen/nothing.js").status_code == 404


def test_the_config_names_each_service_at_the_pages_host_unless_its_url_is_set(
    pages: TestClient[Litestar],
) -> None:
    config = pages.get("/ui/config.json", headers={"host": "10.1.2.3:8101"}).json()
    assert config["service"] == "intake"
    assert config["services"]["intake"] == "http://10.1.2.3:8101"
    assert config["services"]["community"] == "http://10.1.2.3:8102"
    assert config["services"]["broadcast"] == "https://public.example.org"
    assert len(config["districts"]) == 25
    assert {"code": "11440", "ko": "마포구", "en": "Mapo-gu"}.items() <= config["districts"][13].items()
    odd = pages.get("/ui/config.json", headers={"host": "x_'unsafe-eval'"}).json()  # not a host name
    assert odd["services"]["intake"] == "http://127.0.0.1:8101"


def test_a_folder_of_pages_named_common_is_refused(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    with pytest.raises(ValueError, match="common"):
        web_routes("intake", tmp_path, WebSettings())


def public_app(origins: frozenset[str]) -> Litestar:
    @get("/public/things", sync_to_thread=False)
    def things() -> list[str]:
        return ["a"]

    @post("/public/things", sync_to_thread=False)
    def add_thing() -> None:
        return None

    cors = DefineMiddleware(PublicReadCors, origins=origins)
    return Litestar(route_handlers=[Router("/", route_handlers=[things, add_thing], middleware=[cors])])


def test_anyone_may_read_public_data_across_origins_but_not_write_it() -> None:
    with TestClient(public_app(frozenset({"*"}))) as client:
        read = client.get("/public/things", headers={"origin": "https://news.example"})
        assert read.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in read.headers
        written = client.post("/public/things", headers={"origin": "https://news.example"})
        assert "access-control-allow-origin" not in written.headers


def test_with_allowed_origins_set_only_those_may_read_across_origins() -> None:
    with TestClient(public_app(frozenset({"https://jikimi.seoul.example"}))) as client:
        allowed = client.get("/public/things", headers={"origin": "https://jikimi.seoul.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://jikimi.seoul.example"
        assert "origin" in allowed.headers["vary"].lower()
        other = client.get("/public/things", headers={"origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_page_has_no_inline_script_or_style_and_everything_it_loads_exists(page: Path) -> None:
    html = page.read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"\son[a-z]+=|\sstyle=|<style", html) is None
    for url in re.findall(r'(?:src|href)="(/ui/[^"?#]+)"', html):
        assert url == "/ui/config.json" or served_file(url).is_file(), url


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_module_a_script_imports_exists(script: Path) -> None:
    for url in re.findall(r'^import\b[^"]*"([^"]+)"', script.read_text(), re.MULTILINE):
        target = served_file(url) if url.startswith("/") else script.parent / url
        assert target.is_file(), f"{script.name} imports {url}"


def served_file(url: str) -> Path:
    """The file behind a /ui URL."""
    folder, _, rest = url.removeprefix("/ui/").partition("/")
    base = COMMON if folder == "common" else WEB / folder
    return base / (rest or "index.html")


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_the_palettes_text_colours_meet_wcag_aa_contrast_on_their_backgrounds() -> None:
    """Every pair the stylesheet's palette names in its comments (``--a on --b``) is at least 4.5:1."""
    css = (COMMON / "jikimi.css").read_text()
    colours = dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-f]{6})", css))
    pairs = re.findall(r"(--[a-z-]+) on (--[a-z-]+)", css)
    assert len(pairs) >= 12
    for text, background in pairs:
        light, dark = sorted((luminance(colours[text]), luminance(colours[background])), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        needed = 3.0 if text == "--line" else 4.5  # a control's border, not text
        assert ratio >= needed, f"{text} on {background}: {ratio:.2f}:1"
