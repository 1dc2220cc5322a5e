"""The far side of broadcast's channels for a local day: a stand-in for Telegram's Bot API and for
the SMS and KakaoTalk gateways that takes every message, so invitations reach the day's experts.

Point a local run at it (``JIKIMI_TELEGRAM_API=http://127.0.0.1:<port>``,
``JIKIMI_SMS_GATEWAY_URL=…/sms``, ``JIKIMI_KAKAO_GATEWAY_URL=…/kakao``) and play with
``jikimi day --phones <port>``. Nothing is kept of what it is sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

__all__ = ["phones"]

_NUMBERS = count(1)


class _Phones(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # http.server calls it by this name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        number = next(_NUMBERS)
        # Telegram reads result.message_id; the gateways read id.
        answer = json.dumps({"ok": True, "result": {"message_id": number}, "id": f"day-{number}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:  # quiet: a day sends thousands
        pass


@contextmanager
def phones(port: int = 0) -> Iterator[str]:
    """Serve the stand-in on 127.0.0.1:``port`` (a free one for 0); yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Phones)
    thread = threading.Thread(target=server.serve_forever, name="jikimi-day-phones", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
