"""The HTTP layer (``http.server`` with keep-alive) and ``RecraftServer``, the public handle.

Everything about sockets lives here: reading bodies (Content-Length or chunked), always
answering with a Content-Length, applying injected faults, and closing connections.  What an
answer says is decided by ``service.Service``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import catalog
from .errors import ApiError
from .faults import Fault, FaultQueue, parse_spec
from .log import RequestLog, RequestRecord
from .service import Response, Service, error_response, parse_body
from .state import State

__all__ = ["RecraftServer"]

# Bodies bigger than the limit are read and thrown away up to this size so the client sees the
# 413 instead of a broken pipe; beyond it the connection is simply closed.
_DRAIN_LIMIT = 512 * 1024 * 1024
_FAULT_CODES = {429: "rate_limit_exceeded", 500: "internal_server_error", 502: "bad_gateway",
                503: "service_unavailable", 504: "gateway_timeout"}  # fmt: skip
_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\n"
)
_DIGITS = re.compile(r"[0-9]{1,20}")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_TRAILERS = 64
_NOT_JSON = b'{"created": 1700000000, "credits": 0, "data": [{"image_id": <!-- upstream error -->'


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app: RecraftServer):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        self.app._track(request, True)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.app._track(request, False)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        """A client that went away (a cancelled request, a killed CLI) is one log line, not
        socketserver's traceback; anything else is still printed whole."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)
            return
        self.app._write_line(f"{client_address[0]} closed the connection ({type(error).__name__})")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RecraftTestServer/0.1"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection gives up its thread after this
    disable_nagle_algorithm = True  # headers and body go out as two writes; don't wait 40 ms
    server: _HTTPServer

    def log_message(self, format, *args):  # one line per request is written by _handle instead
        pass

    def send_error(self, code, message=None, explain=None):
        """Used by http.server for unparseable requests; answer in the API's JSON error shape."""
        reason = self.responses.get(code, ("Error",))[0]
        body = json.dumps({"code": "bad_request", "message": message or reason}).encode()
        self.close_connection = True
        self.send_response(code, reason)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # --- one request -------------------------------------------------------------------------

    def _handle(self) -> None:
        app = self.server.app
        started = time.monotonic()
        path, _, query = self.path.partition("?")
        if path == "/admin/faults" and app.admin:
            self._admin(app)
            return
        rec = app._log.begin(self.command, path, query, self.headers)
        rec.epoch = app._state.epoch
        self._answered = False  # True once a status line went out
        try:
            rec.authorized = app._service.authorized(self.headers.get("Authorization"))
            # An unauthenticated API request neither uses up a fault nor gets its body parsed.
            fault = None
            if rec.authorized or not Service.needs_auth(path):
                fault = app._faults.take(path)
            rec.fault = fault.kind if fault else None
            self._serve(app, rec, path, fault)
        except OSError:  # the client went away (reset, broken pipe, timeout)
            self.close_connection = True
        except Exception as exc:
            self._internal_error(rec, exc)
        finally:
            for ups in rec.files.values():
                for up in ups:
                    up.release()
            app._log.finish(rec, time.monotonic() - started)
            app._write_log_line(self.client_address, rec)

    def _serve(self, app: RecraftServer, rec: RequestRecord, path: str, fault: Fault | None):
        handled = fault is not None and bool(fault.params.get("handled"))
        if fault is not None and fault.kind == "reset" and not handled:
            self._reset(fault.params["body_bytes"])
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.params["seconds"])
        try:
            body = self._read_body()
        except ApiError as err:
            self.close_connection = True
            rec.error = err.body()
            self._send(error_response(err), rec)
            return
        rec.body_size = len(body)
        if handled:
            # Done (and charged) for real; the fault then replaces its answer.
            app._service.handle(self.command, path, self.headers, body, self._own_url, rec)
            if fault.kind == "reset":
                self._reset(0)  # the whole upload was read
                return
        if fault is not None and fault.kind not in ("delay", "truncate"):
            if not handled:
                with contextlib.suppress(ApiError):
                    parse_body(self.headers.get("Content-Type"), body, rec)  # for the log only
            reason = fault.params.get("reason") if fault.kind == "body" else None
            self._send(self._fault_response(fault, rec, path), rec, reason=reason)
            return
        # Result URLs always name the server's own address, never the client's Host header.
        response = app._service.handle(self.command, path, self.headers, body, self._own_url, rec)
        self._send(response, rec, truncate=fault is not None and fault.kind == "truncate")

    @property
    def _own_url(self) -> str:
        """The server's URL, from the socket this request came in on: a request still being
        answered (a delay fault) when the server is stopped keeps its address."""
        return self.server.app.url_for(self.server.server_address[1])

    def _admin(self, app: RecraftServer) -> None:
        """/admin/faults (only with --admin, from loopback): the fault queue of a server
        running in another process, for editor tests and manual trials. Not logged: the
        request log is what the API was asked."""
        refusal = self._admin_refusal()
        if refusal:
            self.close_connection = True  # its body is left unread
            self._send(Response(403, refusal.encode(), "text/plain; charset=utf-8"))
            return
        if self.command == "DELETE":
            app._faults.clear()
        elif self.command == "POST":
            try:
                kind, kwargs = parse_spec(self._read_body().decode("utf-8", "replace"))
                app.fault(kind, **kwargs)
            except (ApiError, TypeError, ValueError) as exc:
                self._send(Response(400, str(exc).encode(), "text/plain"))
                return
        elif self.command != "GET":
            self.close_connection = True  # its body, if any, is left unread
            self._send(Response(405, b"GET, POST or DELETE", "text/plain"))
            return
        listed = [
            {
                "kind": f.kind,
                "times": f.times,
                "path": f.path,
                **{k: v for k, v in f.params.items() if k != "body"},
            }
            for f in app.pending_faults
        ]
        self._send(Response.json(200, listed))

    def _admin_refusal(self) -> str | None:
        """Why an admin request is refused, or None. Only a program on this machine may
        queue faults: not another machine, and not a web page in this machine's browser,
        which sends an Origin header with its POSTs and DELETEs (any Origin is refused, even
        this server's own) and, through a rebound DNS name, a Host that is not loopback."""
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            return "admin requests come from this machine only"
        if self.headers.get("Origin") is not None:
            return "admin requests are not taken from a web page (the request has an Origin)"
        host = self.headers.get("Host")
        if not _loopback_host(host):
            shown = printable(repr(host)[:80]) if host is not None else "none"
            return (
                "admin requests must be sent to this machine by its loopback name "
                f"(127.0.0.1, [::1] or localhost), not Host {shown}"
            )
        return None

    def _internal_error(self, rec: RequestRecord, exc: Exception) -> None:
        """Answer 500 in the API's JSON error shape (or just close, if an answer had begun)."""
        self.close_connection = True
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        detail = f"{type(exc).__name__}: {exc}"
        err = {"code": "internal_server_error", "message": f"unexpected error: {detail[:300]}"}
        rec.error = err
        rec.status = 500
        if self._answered:
            return
        with contextlib.suppress(OSError):
            self._send(Response.json(500, err), rec)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not _DIGITS.fullmatch(length.strip()):
            raise ApiError("invalid_request_body", f"bad Content-Length {length[:40]!r}")
        size = int(length)
        if size > catalog.MAX_BODY_BYTES:
            if size <= _DRAIN_LIMIT:
                self._discard(size)
            raise ApiError(
                "payload_too_large",
                f"the body is {size} bytes; this server accepts at most {catalog.MAX_BODY_BYTES}",
            )
        return self._read_exactly(size)

    def _read_exactly(self, size: int) -> bytes:
        body = self.rfile.read(size)
        if len(body) < size:
            raise ConnectionAbortedError("client closed the connection mid-body")
        return body

    def _discard(self, size: int) -> None:
        while size > 0:
            chunk = self.rfile.read(min(size, 1 << 20))
            if not chunk:
                return
            size -= len(chunk)

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise ApiError(
                    "invalid_request_body",
                    f"bad chunk size {size_text[:20]!r} in a chunked body (want hex digits)",
                )
            size = int(size_text, 16)
            if size == 0:
                for _ in range(_MAX_TRAILERS):
                    if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                        return b"".join(chunks)
                raise ApiError("invalid_request_body", "too many trailers after a chunked body")
            total += size
            if total > catalog.MAX_BODY_BYTES:
                raise ApiError("payload_too_large", "the chunked body is over the upload limit")
            chunks.append(self._read_exactly(size))
            if self.rfile.readline(1024) not in (b"\r\n", b"\n"):
                raise ApiError("invalid_request_body", "a chunk is not followed by CRLF")

    def _reset(self, body_bytes: int) -> None:
        """Read a little of the upload, then close with SO_LINGER(1, 0) so the peer gets RST."""
        length = (self.headers.get("Content-Length") or "0").strip()
        want = min(int(length), body_bytes) if _DIGITS.fullmatch(length) else 0
        if want:
            self.rfile.read(want)
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The buffered reader holds a reference to the socket; close it first so the socket's
        # close() really closes (and resets) now.
        self.rfile.close()
        self.connection.close()

    def _send(
        self,
        response: Response,
        rec: RequestRecord | None = None,
        truncate: bool = False,
        reason: str | None = None,
    ) -> None:
        """Write one answer, always with its full Content-Length (and its status into `rec`,
        for a logged request).  ``truncate`` (the fault) writes only the first half of the
        body and then closes the connection; ``reason`` replaces the standard reason phrase
        (kept to one line of Latin-1, as a status line must be)."""
        if rec is not None:
            rec.status = response.status
        if truncate:
            self.close_connection = True
        self._answered = True
        if reason is not None:
            reason = " ".join(str(reason).split()).encode("latin-1", "replace").decode("latin-1")
        self.send_response(response.status, reason)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            body = response.body
            self.wfile.write(body[: len(body) // 2] if truncate else body)

    def _fault_response(self, fault: Fault, rec: RequestRecord, path: str) -> Response:
        kind, p = fault.kind, fault.params
        extra = {"Retry-After": str(p["retry_after"])} if p.get("retry_after") is not None else {}
        if kind == "status":
            status = p["status"]
            err = {
                "code": p.get("code") or _FAULT_CODES.get(status, "injected_fault"),
                "message": p.get("message") or f"injected fault: HTTP {status}",
            }
            rec.error = err
            return Response.json(status, err, extra)
        if kind == "html":
            status = p["status"]
            reason = self.responses.get(status, ("Error",))[0]
            page = _HTML_PAGE.format(status=status, reason=reason).encode()
            return Response(status, page, "text/html; charset=utf-8", extra)
        if kind == "invalid_json":
            return Response(200, _NOT_JSON, "application/json")
        if kind == "body":
            body = p["body"].encode() if isinstance(p["body"], str) else p["body"]
            return Response(p["status"], body, p["content_type"])
        if kind == "redirect":
            # By default to the request's own URL: a client that follows it sends the request
            # again here, and the log shows whether it did and with what body.
            location = p.get("location") or self._own_url + self.path
            return Response(p["status"], b"", "text/plain; charset=utf-8", {"Location": location})
        err = ApiError("expired", f"the URL of {path} has expired")  # kind == "expire"
        rec.error = err.body()
        return error_response(err)


class RecraftServer:
    """A local Recraft-compatible API server (see the package docstring for the rules).

    ``log_limit`` is how many request records are kept (default 1000); uploaded bytes are
    kept only in the newest 50 of them.
    """

    def __init__(
        self,
        token: str = "test-token",
        host: str = "127.0.0.1",
        port: int = 0,
        credits: int = 100000,
        *,
        url_ttl: float = 3600.0,
        verbose: bool = False,
        log_limit: int | None = None,
    ):
        self._token = token
        self.host = host
        self._port = port
        self.verbose = verbose
        self._state = State(credits, url_ttl)
        self._service = Service(self._state, token)
        self._faults = FaultQueue()
        self.admin = False  # /admin/faults answers (python -m recraft_server --admin)
        self._log = RequestLog(log_limit)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._print_lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> RecraftServer:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self._port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"recraft-server:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._conns_lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:  # wake handler threads parked on idle keep-alive connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RecraftServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._conns_lock:
            if opened:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # --- addresses ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started; call start() first")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return self.url_for(self.port)

    def url_for(self, port: int) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def token(self) -> str:
        return self._token

    # --- state tests can read and change ----------------------------------------------------------

    @property
    def credits(self) -> int:
        with self._state.lock:
            return self._state.credits

    @credits.setter
    def credits(self, value: int) -> None:
        with self._state.lock:
            self._state.credits = int(value)

    @property
    def url_ttl(self) -> float:
        return self._state.url_ttl

    @url_ttl.setter
    def url_ttl(self, seconds: float) -> None:
        with self._state.lock:
            self._state.url_ttl = float(seconds)

    @property
    def requests(self) -> list[RequestRecord]:
        return self._log.records()

    def last(self, path_substring: str | None = None) -> RequestRecord | None:
        return self._log.last(path_substring)

    def fault(self, kind: str, times: int = 1, path: str | None = None, **params) -> Fault:
        return self._faults.add(kind, times=times, path=path, **params)

    @property
    def pending_faults(self) -> list[Fault]:
        return self._faults.pending()

    @property
    def style_ids(self) -> list[str]:
        with self._state.lock:
            return list(self._state.styles)

    def reset(self) -> None:
        """Forget requests, faults, files, styles and explore images; restore credits and TTL."""
        self._log.clear()
        self._faults.clear()
        self._state.reset()

    # --- standalone logging -----------------------------------------------------------------------

    def _write_log_line(self, client, rec: RequestRecord) -> None:
        if not self.verbose:
            return
        line = f'{client[0]} "{rec.method} {rec.path}" {rec.status or "-"}'
        if rec.credits:
            line += f" {rec.credits}cr"
        line += f" {rec.duration or 0:.3f}s"
        if rec.fault:
            line += f" fault={rec.fault}"
        if rec.error:
            line += f" {rec.error.get('code')}: {rec.error.get('message')}"
        self._write_line(line)

    def _write_line(self, line: str) -> None:
        if not self.verbose:
            return
        with self._print_lock:
            print(printable(line), file=sys.stderr, flush=True)


def _loopback_host(host: str | None) -> bool:
    """True for a Host header naming this machine by a loopback address or localhost, with or
    without a port: 127.0.0.1:8000, [::1]:8000, localhost."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not re.fullmatch(r":[0-9]{1,5}", rest)):
            return False
    else:
        name, colon, port = host.partition(":")
        if colon and not _DIGITS.fullmatch(port):
            return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters (from a request path or a field
    name) escaped, so a log line can never drive the terminal."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode()
        for ch in text
    )
