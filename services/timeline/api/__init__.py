"""The timeline service's HTTP API, for analysts."""
