"""Department briefings: a situation report per incident for its engaged departments.

``note_fact`` (a consumer handler) notes what intake and community say about an incident;
``BriefingView`` folds those facts and the reports issued; ``BriefingClock`` issues each report
when ``policy.due_at`` says (Initial on assembly, Update on a significant change after the
debounce or on the severity's schedule, Final on close) with one delivery per department.
"""

from services.broadcast.briefings.clock import BriefingClock
from services.broadcast.briefings.facts import DEBOUNCE, FACT_SOURCES, FACT_SUBJECTS, FactNotes, note_fact
from services.broadcast.briefings.policy import INTERVALS, briefing_stream, due_at, issue
from services.broadcast.briefings.state import BriefingView, IncidentBriefing
from services.broadcast.briefings.text import briefing_html, briefing_text

__all__ = [
    "DEBOUNCE",
    "FACT_SOURCES",
    "FACT_SUBJECTS",
    "INTERVALS",
    "BriefingClock",
    "BriefingView",
    "FactNotes",
    "IncidentBriefing",
    "briefing_html",
    "briefing_stream",
    "briefing_text",
    "due_at",
    "issue",
    "note_fact",
]
