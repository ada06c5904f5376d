"""A small users API on a local port, so that the example suite runs anywhere.

POST /users, GET/PATCH/DELETE /users/ID; viewers may not change users (403). A real suite
would point at a test deployment instead.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Users:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[int, dict[str, Any]] = {}
        self.next_id = 1


class _Handler(BaseHTTPRequestHandler):
    users: _Users

    def log_message(self, format: str, *args: Any) -> None:  # quiet, as a test server
        return None

    def _reply(self, status: int, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _user_id(self) -> int:
        try:
            return int(self.path.rsplit("/", 1)[1])
        except ValueError:
            return -1

    def do_POST(self) -> None:
        if self.path != "/users":
            return self._reply(404, {"error": "not found"})
        body = self._body()
        with self.users.lock:
            user = {"id": self.users.next_id, "name": body.get("name"), "role": body.get("role")}
            self.users.rows[user["id"]] = user
            self.users.next_id += 1
        self._reply(201, user)

    def do_GET(self) -> None:
        user = self.users.rows.get(self._user_id())
        self._reply(200, user) if user else self._reply(404, {"error": "no such user"})

    def do_PATCH(self) -> None:
        user = self.users.rows.get(self._user_id())
        if user is None:
            return self._reply(404, {"error": "no such user"})
        if user["role"] == "viewer":
            return self._reply(403, {"error": "viewers are read-only"})
        user.update(self._body())
        self._reply(200, user)

    def do_DELETE(self) -> None:
        with self.users.lock:
            found = self.users.rows.pop(self._user_id(), None)
        self._reply(204) if found else self._reply(404, {"error": "no such user"})


def start() -> str:
    """Serve the API on a free local port, in a daemon thread; returns its base URL."""
    handler = type("Handler", (_Handler,), {"users": _Users()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"
