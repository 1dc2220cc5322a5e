"""Community over HTTP: communities and invitations (``communities``), incident rooms (``rooms``)."""

from services.community.api.communities import CommunityController, CommunityOut, InvitationLinkController
from services.community.api.rooms import RoomController, RoomLinkController

__all__ = ["CommunityController", "CommunityOut", "InvitationLinkController", "RoomController", "RoomLinkController"]
