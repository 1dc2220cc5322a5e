"""Broadcast over HTTP: one module per resource (live streams, briefings, the public)."""
