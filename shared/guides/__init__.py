"""Action guides: what a citizen should do before, during and after each kind of disaster.

The texts were written for Jikimi (they are not copies of the published national guidelines) and
live one TOML file per disaster type in ``shared/guides/data/``, named after the type's slug. They
are read once, on first use, and checked against the taxonomy.

Errors::

    LookupError
     └── UnknownGuideError    raised when no guide exists for a slug
    ValueError
     └── GuideDataError       raised when a bundled guide file is malformed or disagrees with the taxonomy
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Annotated

import msgspec

from shared import taxonomy

__all__ = ["SHORT_MAX_CHARS", "Guide", "GuideDataError", "GuideText", "UnknownGuideError", "all_guides", "get_guide"]

SHORT_MAX_CHARS = 300
"""The longest ``short`` text: it must fit a chat reply next to a receipt number."""

Steps = Annotated[list[str], msgspec.Meta(min_length=3, max_length=6)]


class UnknownGuideError(LookupError):
    """Raised when no guide exists for a slug."""


class GuideDataError(ValueError):
    """Raised when a bundled guide file is malformed or disagrees with the taxonomy."""


class GuideText(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A guide in one language: a title, a chat-sized summary, and the steps of each phase."""

    title: Annotated[str, msgspec.Meta(min_length=1)]
    short: Annotated[str, msgspec.Meta(min_length=1, max_length=SHORT_MAX_CHARS)]
    before: Steps
    during: Steps
    after: Steps


class Guide(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The guide for one disaster type, in Korean and English."""

    slug: str
    code: int
    version: str
    ko: GuideText
    en: GuideText

    def text(self, language: str) -> GuideText:
        """The text in ``language`` ("ko" or "en", or a tag such as "en-US"); Korean for any other."""
        return self.en if language.lower().startswith("en") else self.ko


@cache
def _guides() -> dict[str, Guide]:
    guides: dict[str, Guide] = {}
    folder = files("shared.guides") / "data"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            guide = msgspec.toml.decode(entry.read_bytes(), type=Guide)
        except msgspec.DecodeError as error:
            msg = f"guide {entry.name}: {error}"
            raise GuideDataError(msg) from error
        _check(entry.name, guide)
        guides[guide.slug] = guide
    return guides


def _check(file_name: str, guide: Guide) -> None:
    # The file name, the slug and the taxonomy code must agree, or a reply could pair a fire report
    # with the wrong guide.
    if file_name != f"{guide.slug}.toml":
        msg = f"guide {file_name} declares slug {guide.slug!r}"
        raise GuideDataError(msg)
    try:
        code = taxonomy.get(guide.slug).code
    except taxonomy.UnknownDisasterTypeError as error:
        raise GuideDataError(str(error)) from error
    if code != guide.code:
        msg = f"guide {file_name} has code {guide.code}, the taxonomy says {code}"
        raise GuideDataError(msg)


def get_guide(slug: str) -> Guide:
    """The guide for a disaster-type slug; raises ``UnknownGuideError`` if there is none."""
    try:
        return _guides()[slug]
    except KeyError:
        msg = f"no action guide for {slug!r}"
        raise UnknownGuideError(msg) from None


def all_guides() -> tuple[Guide, ...]:
    """Every guide, ordered by slug."""
    return tuple(_guides().values())
