"""The web pages, served by the services themselves: no build step, no other server.

Every service serves the shared assets (``static/``: one CSS, the i18n dictionary, a fetch and
stream helper) at ``/ui/common/…`` and ``/ui/config.json`` (where the browser reaches each
service, and Seoul's districts); a service with pages serves each folder of its ``web/`` at
``/ui/<folder>/``. Every answer carries the security headers of :mod:`shared.webui.headers`
and is compressed (brotli, else gzip). Broadcast's public data is read across origins with
:class:`PublicReadCors`.
"""

from shared.webui.cors import PublicReadCors, public_cors_origins
from shared.webui.headers import PageHeaders, content_security_policy
from shared.webui.routes import COMMON, web_routes
from shared.webui.settings import WebSettings

__all__ = [
    "COMMON",
    "PageHeaders",
    "PublicReadCors",
    "WebSettings",
    "content_security_policy",
    "public_cors_origins",
    "web_routes",
]
