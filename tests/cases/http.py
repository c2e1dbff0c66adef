"""A tiny HTTP client on the standard library, for API tests against ``live_server`` (real HTTP)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from .conftest import PASSWORD


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


def multipart(fields: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Api:
    def __init__(self, base_url: str, user=None):
        self.base = base_url.rstrip("/")
        self.user = user

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        fields: dict | None = None,
        files: dict | None = None,
        headers: dict | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        data, all_headers = raw, dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        elif fields is not None or files is not None:
            data, all_headers["Content-Type"] = multipart(fields or {}, files or {})
        if self.user is not None:
            token = base64.b64encode(f"{self.user.username}:{PASSWORD}".encode()).decode()
            all_headers["Authorization"] = f"Basic {token}"
        req = Request(self.base + path, data=data, method=method, headers=all_headers)
        try:
            with urlopen(req, timeout=60) as resp:
                return Reply(resp.status, resp.read(), dict(resp.headers))
        except HTTPError as err:
            return Reply(err.code, err.read(), dict(err.headers))

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Reply:
        return self.request("POST", path, **kw)
