"""Where a browser reaches each service, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.services import SERVICES
from shared.settings import DEFAULT_PORTS

__all__ = ["WebSettings"]

# A Host header is the client's to write: only a plain name, IPv4 or bracketed IPv6 address
# (and a port) may shape the addresses a page is told to use.
_HOST = re.compile(r"^(?P<name>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$")


@dataclass(frozen=True)
class WebSettings:
    """``JIKIMI_<SERVICE>_URL`` is the address a browser reaches a service at (behind a proxy,
    say); unset, it is the page's own host on the service's port (``JIKIMI_<SERVICE>_PORT``)."""

    urls: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))

    @classmethod
    def from_env(cls) -> WebSettings:
        urls, ports = {}, {}
        for name in SERVICES:
            if url := os.environ.get(f"JIKIMI_{name.upper()}_URL", "").strip().rstrip("/"):
                urls[name] = url
            ports[name] = int(os.environ.get(f"JIKIMI_{name.upper()}_PORT", str(DEFAULT_PORTS[name])))
        return cls(urls=urls, ports=ports)

    def service_urls(self, scheme: str, host: str) -> dict[str, str]:
        """Every service's base URL as seen from a page asked for at ``scheme://host``."""
        matched = _HOST.match(host)
        name = matched["name"] if matched else "127.0.0.1"
        scheme = scheme if scheme in {"http", "https"} else "http"
        return {s: self.urls.get(s) or f"{scheme}://{name}:{self.ports[s]}" for s in SERVICES}
