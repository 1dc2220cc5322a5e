"""The community service."""
