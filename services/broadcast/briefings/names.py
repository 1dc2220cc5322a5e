"""Korean names of what briefings mention: severities, disaster types, districts, fields."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.broadcast.requests import FIELD_NAMES
from shared import geo, taxonomy

__all__ = ["SEOUL", "district_ko", "field_ko", "kst", "severity_ko", "type_ko"]

SEOUL = ZoneInfo("Asia/Seoul")

_SEVERITY_KO = {"minor": "경미", "moderate": "보통", "severe": "심각", "extreme": "매우 심각"}


def severity_ko(severity: str) -> str:
    """``심각(severe)``: the Korean word with the code departments' systems match on."""
    return f"{_SEVERITY_KO[severity]}({severity})" if severity in _SEVERITY_KO else severity or "미상"


def type_ko(disaster_type: str) -> str:
    try:
        return taxonomy.get(disaster_type).ko
    except taxonomy.UnknownDisasterTypeError:
        return disaster_type or "사고"


def district_ko(code: str | None) -> str:
    district = geo.district_by_code(code) if code else None
    return district.ko if district else ""


def field_ko(field: str) -> str:
    return FIELD_NAMES.get(field, (field, field))[0]


def kst(at: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A time in Korea time, as departments read it."""
    return f"{at.astimezone(SEOUL).strftime(fmt)} KST" if at else "-"
