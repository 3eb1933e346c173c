"""``veritee upstream-sim serve``: a deterministic LLM provider (OpenAI + Anthropic) on a socket.

At start it prints one line, then serves until SIGINT/SIGTERM::

    upstream-sim listening url=http://127.0.0.1:43117
    upstream-sim listening url=https://127.0.0.1:43117 ca=/s/ca.pem cert=/s/cert.pem spki_sha256=..

Options and per-request directives are described in ``docs/upstream-sim.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from veritee.cli.exitcodes import BAD_INPUT, OK
from veritee.upstream_sim import SimServer, SimSettings, TlsFiles, new_event_loop, self_signed
from veritee.upstream_sim.process import listening_line
from veritee.upstream_sim.settings import DEFAULT_SEED


def register(sub: Any) -> None:
    parser = sub.add_parser("upstream-sim", help="simulated upstream LLM provider")
    commands = parser.add_subparsers(dest="upstream_sim_command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the OpenAI and Anthropic APIs on a port",
        description="Serve a deterministic OpenAI/Anthropic-compatible upstream.",
    )
    serve.add_argument("--port", type=_port, required=True, help="port (0: pick a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate (leaf first)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    serve.add_argument(
        "--tls-self-signed",
        type=Path,
        metavar="DIR",
        help="generate (or reuse) ca.pem, cert.pem, key.pem in DIR and serve HTTPS",
    )
    serve.add_argument("--latency-ms", type=_count, default=0, help="delay before first byte")
    serve.add_argument(
        "--chunks", type=_positive, help="content chunks per stream (default: 1/token)"
    )
    serve.add_argument("--chunk-delay-ms", type=_count, default=0, help="delay between chunks")
    serve.add_argument("--stall-max-s", type=_seconds, default=60.0, help="bound of stall faults")
    serve.add_argument("--hold-max-s", type=_seconds, default=60.0, help="bound of hold=<token>")
    serve.add_argument("--seed", default=DEFAULT_SEED, help="seed of ids (chatcmpl-, msg_, req_)")
    serve.add_argument("--epoch", type=_count, help="'created' timestamp (default: start time)")
    serve.add_argument("--api-key", help="accept only this key (default: any non-empty key)")
    serve.add_argument(
        "--max-body-bytes", type=_positive, default=32 * 1024 * 1024, help="larger bodies: 413"
    )
    serve.set_defaults(handler=_serve)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _serve(args: argparse.Namespace) -> int:
    if args.tls_self_signed and (args.tls_cert or args.tls_key):
        return _bad("--tls-self-signed excludes --tls-cert/--tls-key")
    if bool(args.tls_cert) != bool(args.tls_key):
        return _bad("--tls-cert and --tls-key go together")
    tls = None
    if args.tls_self_signed:
        tls = self_signed(args.tls_self_signed)
    elif args.tls_cert:
        tls = TlsFiles(args.tls_cert, args.tls_key)
    settings = SimSettings(
        latency_ms=args.latency_ms,
        chunks=args.chunks,
        chunk_delay_ms=args.chunk_delay_ms,
        stall_max_s=args.stall_max_s,
        hold_max_s=args.hold_max_s,
        seed=args.seed,
        epoch=args.epoch,
        api_key=args.api_key,
        max_body_bytes=args.max_body_bytes,
    )
    loop = new_event_loop()
    try:
        server = SimServer(settings, host=args.host, port=args.port, tls=tls)
        loop.run_until_complete(_run(server, tls.cert if tls else None))
    finally:
        loop.close()
    return OK


async def _run(server: SimServer, cert: Path | None) -> None:
    endpoint = await server.start()
    print(listening_line(endpoint, cert), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.aclose()


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return BAD_INPUT


def _bad(message: str) -> int:
    print(f"bad input: {message}", file=sys.stderr)
    return BAD_INPUT


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("a port is at most 65535")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected an integer >= 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("expected seconds > 0")
    return value
