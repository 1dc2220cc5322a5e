"""Community's pages (the expert's) as files: no inline script or style, and everything they
load or import is there (tests/unit/test_webui.py checks intake's the same way)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.community.app import WEB
from shared.webui import COMMON

PAGES = sorted(WEB.glob("*/*.html"))
SCRIPTS = sorted(WEB.glob("*/*.js"))


def served_file(url: str) -> Path:
    """The file behind a /ui URL on community."""
    folder, _, rest = url.removeprefix("/ui/").partition("/")
    return (COMMON if folder == "common" else WEB / folder) / (rest or "index.html")


def test_community_serves_the_experts_page() -> None:
    assert [p.relative_to(WEB).as_posix() for p in PAGES] == ["expert/index.html"]


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
