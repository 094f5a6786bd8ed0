"""Request -> response, independent of the socket: routing, auth, body decoding, billing.

Status codes: 400 for any bad input (codes invalid_request_body, unsupported_content_type,
missing_parameter, unknown_parameter, invalid_parameter, invalid_image; unknown style ids and
explore source ids are 400 invalid_parameter too, because they are bad field values), 401 with
a plain-text body for a missing or wrong token, 402 not_enough_credits, 404 not_found (unknown
path, unknown result file, unknown style in GET/DELETE /v1/styles/{id}), 405
method_not_allowed, 410 expired (a result URL past its lifetime), 413 payload_too_large, and
500 internal_server_error for anything unexpected (answered by the HTTP layer).

Result files are served with ``X-Content-Type-Options: nosniff`` and
``Content-Security-Policy: sandbox`` so a browser never runs anything in them.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass, field

from . import fields, multipart, rules, uploads
from .calls import IMAGE, IMAGES, Call, Endpoint
from .endpoints import BY_PATH, style_json
from .errors import ApiError
from .log import RequestRecord
from .state import State

USER_ID = "6f1c2a52-8d1e-4b9a-9a57-3c0d6e1f0b7a"
_STYLE_PATH = re.compile(r"/v1/styles/([^/]+)")
_FILE_PATH = re.compile(r"/files/([0-9a-f-]{36}\.(?:png|webp|svg))")
FILE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
}


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj, headers=None) -> Response:
        body = json.dumps(obj).encode()
        return cls(status, body, "application/json", dict(headers or {}))


def error_response(err: ApiError) -> Response:
    return Response.json(err.status, err.body(), err.headers)


def unauthorized() -> Response:
    return Response(
        401,
        b"Unauthorized: missing or invalid API token (send Authorization: Bearer <token>)\n",
        "text/plain; charset=utf-8",
        {"WWW-Authenticate": 'Bearer realm="recraft"'},
    )


class Service:
    def __init__(self, state: State, token: str):
        self.state = state
        self._token = token.encode()

    @staticmethod
    def needs_auth(path: str) -> bool:
        return path == "/v1" or path.startswith("/v1/")

    def authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._token
        )

    def handle(
        self, method: str, path: str, headers, body: bytes, base_url: str, rec: RequestRecord
    ) -> Response:
        """The answer to one request; ``base_url`` is the server's own address for result URLs."""
        self.state.forget_expired()
        try:
            if path.startswith("/files/"):
                return self._file(method, path)
            if self.needs_auth(path):
                if not rec.authorized:
                    return unauthorized()
                return self._api(method, path, headers, body, base_url, rec)
            if path == "/ping" and method in ("GET", "HEAD"):
                return Response(200, b"pong", "text/plain; charset=utf-8")
            if path == "/status" and method in ("GET", "HEAD"):
                return Response.json(200, {"service": True, "generation": True})
            raise ApiError("not_found", f"no such endpoint: {method} {path}")
        except ApiError as err:
            rec.error = err.body()
            return error_response(err)

    # --- routes ------------------------------------------------------------------------------

    def _file(self, method: str, path: str) -> Response:
        m = _FILE_PATH.fullmatch(path)
        if not m:
            raise ApiError("not_found", f"no such file: {path}")
        if method not in ("GET", "HEAD"):
            raise _method_not_allowed(method, path, "GET, HEAD")
        stored = self.state.get_file(m.group(1))
        return Response(200, stored.data, stored.content_type, dict(FILE_HEADERS))

    def _api(self, method, path, headers, body, base_url, rec) -> Response:
        if path == "/v1/users/me":
            if method not in ("GET", "HEAD"):
                raise _method_not_allowed(method, path, "GET")
            with self.state.lock:
                credits = self.state.credits
            user = {"id": USER_ID, "credits": credits, "email": "tester@example.com",
                    "name": "Recraft Test Server"}  # fmt: skip
            return Response.json(200, user)
        ep = BY_PATH.get(path)
        if ep is not None:
            if path == "/v1/styles" and method in ("GET", "HEAD"):
                with self.state.lock:
                    styles = [style_json(s) for s in self.state.styles.values()]
                return Response.json(200, {"styles": styles})
            if method != "POST":
                raise _method_not_allowed(method, path, "POST")
            return self._post(ep, headers, body, base_url, rec)
        m = _STYLE_PATH.fullmatch(path)
        if m:
            return self._style(method, m.group(1))
        raise ApiError("not_found", f"no such endpoint: {method} {path}")

    def _style(self, method: str, style_id: str) -> Response:
        try:
            sid = rules.canonical_uuid("style_id", style_id)
        except ApiError:
            sid = style_id
        with self.state.lock:
            record = self.state.styles.get(sid)
            if record is None:
                raise ApiError("not_found", f"no such style: {style_id}")
            if method in ("GET", "HEAD"):
                return Response.json(200, style_json(record))
            if method == "DELETE":
                del self.state.styles[sid]
                return Response.json(200, {})
        raise _method_not_allowed(method, f"/v1/styles/{style_id}", "GET, DELETE")

    def _post(self, ep: Endpoint, headers, body: bytes, base_url: str, rec) -> Response:
        raw, files, is_multipart = self._decode_body(ep, headers.get("Content-Type"), body, rec)
        call = rules.validate(ep, raw, files, is_multipart, self.state)
        rec.params = dict(call.params)
        if call.model is not None:
            rec.params.setdefault("model", call.model)
        if call.size is not None:
            rec.params.setdefault("size", f"{call.size[0]}x{call.size[1]}")
        cost = ep.price(call)
        self.state.charge(cost, rec.epoch)
        try:
            answer = self._answer(ep, call, cost, base_url)
        except Exception:
            self.state.refund(cost)
            raise
        rec.credits = cost
        rec.response = answer
        return Response.json(200, answer)

    def _answer(self, ep: Endpoint, call: Call, cost: int, base_url: str) -> dict:
        result = ep.run(call)
        if ep.response not in (IMAGES, IMAGE):
            return {**result, "credits": cost}
        fmt = call.params.get("response_format", "url")
        items = [self._deliver(out, fmt, base_url) for out in result]
        if ep.on_result is not None:
            ep.on_result(call, [item["image_id"] for item in items])
        key, value = ("image", items[0]) if ep.response == IMAGE else ("data", items)
        return {"created": int(time.time()), "credits": cost, key: value}

    def _deliver(self, out, response_format: str, base_url: str) -> dict:
        if response_format == "b64_json":
            return {"image_id": str(uuid.uuid4()), "b64_json": base64.b64encode(out.data).decode()}
        name = self.state.store_file(out.data, out.ext)
        return {"image_id": name.split(".", 1)[0], "url": f"{base_url}/files/{name}"}

    def _decode_body(self, ep: Endpoint, content_type: str | None, body: bytes, rec):
        kind, raw, files = parse_body(content_type, body, rec)
        if kind not in ep.bodies:
            wanted = " or ".join(_MEDIA[b] for b in ep.bodies)
            raise ApiError(
                "unsupported_content_type",
                f"{ep.path} expects {wanted}, got {content_type or 'no Content-Type'}",
            )
        return raw, files, kind == "multipart"


_MEDIA = {"json": "application/json", "multipart": "multipart/form-data"}


def parse_body(content_type: str | None, body: bytes, rec: RequestRecord):
    """Decode a JSON or multipart body into (kind, {name: [values]}, {name: [Upload]}).

    Fills the record as it goes, so what a client sent is logged even when it is rejected
    (or when a fault answers instead of the endpoint).
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    kind = {v: k for k, v in _MEDIA.items()}.get(media)
    rec.content_type = kind
    if kind == "json":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError("invalid_request_body", f"the body is not valid UTF-8: {exc}") from exc
        obj = fields.load_json(text) if text.strip() else None
        if not isinstance(obj, dict):
            raise ApiError("invalid_request_body", "the body must be a JSON object")
        rec.fields = obj
        return kind, {k: [v] for k, v in obj.items()}, {}
    raw: dict[str, list] = {}
    files: dict[str, list] = {}
    if kind != "multipart":
        return kind, raw, files
    rec.files = files  # filled as parts are read, so even a rejected upload is logged
    for part in multipart.parse_multipart(body, content_type):
        if part.is_file:
            files.setdefault(part.name, []).append(uploads.describe(part))
            continue
        try:
            text = part.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(
                "invalid_request_body", f"the text field {part.name} is not valid UTF-8"
            ) from exc
        raw.setdefault(part.name, []).append(text)
        rec.fields = {k: v[0] if len(v) == 1 else v for k, v in raw.items()}
    return kind, raw, files


def _method_not_allowed(method: str, path: str, allowed: str) -> ApiError:
    return ApiError(
        "method_not_allowed",
        f"{method} is not allowed on {path} (use {allowed})",
        headers={"Allow": allowed},
    )
