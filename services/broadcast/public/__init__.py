"""The public: an Atom feed of active CAP 1.2 alerts (the city's own about incidents operators
made public, and relayed national ones: CAP alerts and Seoul's disaster text messages), each
alert's CAP document, the situation of public incidents, and the action guides; read by anyone,
no token.

``PublicView`` folds intake's events (``view``); ``PublicFollower`` keeps it complete from the
stream's first message (``follow``, which says why); ``cap`` writes CAP documents (a disaster
text message by way of ``disaster_messages``), ``feed`` the Atom feed; ``PublicController``
serves them (``api``).
"""

from services.broadcast.public.api import PublicController
from services.broadcast.public.cap import city_alert, relayed_alert, schema_problems, to_bytes
from services.broadcast.public.disaster_messages import disaster_message_alert
from services.broadcast.public.feed import alert_document, build_feed
from services.broadcast.public.follow import PublicFollower, public_subjects
from services.broadcast.public.view import PublicIncident, PublicView

__all__ = [
    "PublicController",
    "PublicFollower",
    "PublicIncident",
    "PublicView",
    "alert_document",
    "build_feed",
    "city_alert",
    "disaster_message_alert",
    "public_subjects",
    "relayed_alert",
    "schema_problems",
    "to_bytes",
]
