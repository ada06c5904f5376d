"""A thin JSON client over urllib: what the tests call."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, NamedTuple, Optional


class Response(NamedTuple):
    status: int
    body: Any


def call(base: str, method: str, path: str, body: Optional[dict[str, Any]] = None) -> Response:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            raw = reply.read()
            return Response(reply.status, json.loads(raw) if raw else None)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return Response(error.code, json.loads(raw) if raw else None)
