"""``python -m recraft_server``: run the local Recraft-compatible server until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .app import RecraftServer
from .faults import KINDS, parse_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="recraft-server",
        description="Local Recraft-compatible API server (deterministic images, no account).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    parser.add_argument(
        "--token", default="dev", help="the API token clients must send (default dev)"
    )
    parser.add_argument("--credits", type=int, default=100000, help="starting balance")
    parser.add_argument(
        "--url-ttl", type=float, default=3600.0, help="result URL lifetime, seconds"
    )
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="misbehave from the start, e.g. status=503,path=/images/inpaint,times=2 or "
        "delay=5 (kinds: " + ", ".join(KINDS) + "); repeatable",
    )
    parser.add_argument(
        "--admin",
        action="store_true",
        help="accept faults while running: POST /admin/faults with a SPEC as the body, "
        "DELETE /admin/faults to clear them, GET to list (loopback only; refused when the "
        "request has an Origin header, as a web page's has, or a Host other than 127.0.0.1, "
        "[::1] or localhost)",
    )
    args = parser.parse_args(argv)
    faults = []
    for spec in args.fault:
        try:
            faults.append(parse_spec(spec))
        except ValueError as exc:
            parser.error(f"--fault {spec!r}: {exc}")
    if args.admin and args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--admin is only for a server bound to loopback (--host 127.0.0.1)")

    server = RecraftServer(
        token=args.token,
        host=args.host,
        port=args.port,
        credits=args.credits,
        url_ttl=args.url_ttl,
        verbose=not args.quiet,
        log_limit=200,  # the log keeps upload bytes; a long session must not grow without bound
    )
    server.admin = args.admin
    for kind, kwargs in faults:
        try:
            server.fault(kind, **kwargs)
        except (TypeError, ValueError) as exc:
            parser.error(f"--fault: {exc}")
    try:
        server.start()
    except OSError as exc:
        print(f"recraft-server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"Recraft test server listening on {server.url}", flush=True)
    print(f"  RECRAFT_API_URL={server.base_url} RECRAFT_API_TOKEN={server.token}", flush=True)
    print("  Ctrl-C to stop", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
