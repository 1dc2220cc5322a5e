"""The names of Jikimi's services, in the order they start."""

SERVICES: tuple[str, ...] = ("intake", "community", "broadcast", "timeline")
