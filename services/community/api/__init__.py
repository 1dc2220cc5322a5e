"""Community over HTTP: communities and invitations (``communities``), incident rooms (``rooms``),
the expert pool (``experts``)."""

from services.community.api.communities import CommunityController, CommunityOut, InvitationLinkController
from services.community.api.experts import ExpertController
from services.community.api.room_socket import room_socket
from services.community.api.rooms import RoomController, RoomLinkController
from services.community.api.seat_link import SeatLinkController

__all__ = [
    "CommunityController",
    "CommunityOut",
    "ExpertController",
    "InvitationLinkController",
    "RoomController",
    "RoomLinkController",
    "SeatLinkController",
    "room_socket",
]
