"""``veritee gateway``: run the gateway, and manage its tenants' API keys.

- ``veritee gateway serve --config gateway.toml [--host H] [--port P]``
- ``veritee gateway tenant add --config gateway.toml --tenant NAME [--models a,b*]
  [--rpm N] [--tpm N] [--admin]``: prints the new key once (only its hash is stored)
- ``veritee gateway tenant list --config gateway.toml``
- ``veritee gateway tenant revoke --config gateway.toml --key-id key_...``
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from datetime import UTC, datetime
from typing import Any

from gateway.config import load_settings
from gateway.errors import ConfigError, StoreError
from gateway.settings import Settings
from gateway.store import ApiKeyRecord, open_store
from gateway.tenants.keys import generate_key, generate_key_id, hash_key
from veritee.cli.exitcodes import BAD_INPUT, COULD_NOT_CHECK, OK


def register(sub: Any) -> None:
    parser = sub.add_parser("gateway", help="the untrusted gateway in front of the enclaves")
    commands = parser.add_subparsers(dest="gateway_command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    _config(serve)
    serve.add_argument("--host", help="override server.host")
    serve.add_argument("--port", type=int, help="override server.port")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.set_defaults(handler=config_guard(_serve))

    tenant = commands.add_parser("tenant", help="manage tenant API keys")
    tenants = tenant.add_subparsers(dest="tenant_command", metavar="COMMAND")
    add = tenants.add_parser("add", help="create an API key (printed once)")
    _config(add)
    add.add_argument("--tenant", required=True, help="the tenant the key belongs to")
    add.add_argument(
        "--models", default="*", help="comma-separated model names or patterns (default: *)"
    )
    add.add_argument("--rpm", type=_positive, help="requests per rate-limit window")
    add.add_argument("--tpm", type=_positive, help="tokens per rate-limit window")
    add.add_argument("--admin", action="store_true", help="may read every tenant's receipts")
    add.set_defaults(handler=config_guard(_add))
    listing = tenants.add_parser("list", help="list API keys (never the keys themselves)")
    _config(listing)
    listing.set_defaults(handler=config_guard(_list))
    revoke = tenants.add_parser("revoke", help="revoke an API key")
    _config(revoke)
    revoke.add_argument("--key-id", required=True)
    revoke.set_defaults(handler=config_guard(_revoke))


def _config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the gateway's TOML configuration")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return int(text)


def config_guard(func: Any) -> Any:
    """A bad configuration is bad input (2); a store that cannot be reached is 3."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except ConfigError as exc:
            print(f"bad input: {exc}", file=sys.stderr)
            return BAD_INPUT
        except StoreError as exc:
            print(f"could not reach the store: {exc}", file=sys.stderr)
            return COULD_NOT_CHECK

    return run


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.obs.logs import configure

    settings = load_settings(args.config)
    server = dataclasses.replace(
        settings.server,
        host=args.host or settings.server.host,
        port=settings.server.port if args.port is None else args.port,
    )
    settings = dataclasses.replace(settings, server=server)
    app = create_app(settings)
    # Open the store once before serving: a store that cannot be reached is a one-line
    # error and exit code 3, not a failed server start with a traceback in the log.
    asyncio.run(_with_store(settings, _nothing))
    configure(args.log_level)  # only now: nothing above must rewire this process's logging
    uvicorn.run(
        app,
        host=server.host,
        port=server.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    return OK


async def _nothing(_store: Any) -> None:
    return None


async def _with_store(settings: Settings, job: Any) -> Any:
    async with open_store(settings.store) as store:
        return await job(store)


def _add(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if not models:
        raise ConfigError("give at least one model name or pattern", key="--models")
    key = generate_key()
    record = ApiKeyRecord(
        key_id=generate_key_id(),
        tenant=args.tenant,
        key_sha256=hash_key(key),
        created_ms=int(datetime.now(UTC).timestamp() * 1000),
        models=models,
        rpm=args.rpm,
        tpm=args.tpm,
        admin=args.admin,
    )
    asyncio.run(_with_store(settings, lambda store: store.add_key(record)))
    print(key)
    print(
        f"created {record.key_id} for tenant {record.tenant!r}; the key above is shown only once",
        file=sys.stderr,
    )
    return OK


def _list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    keys: list[ApiKeyRecord] = asyncio.run(_with_store(settings, lambda store: store.list_keys()))
    print("key_id\ttenant\tmodels\trpm\ttpm\tadmin\tcreated\trevoked")
    for k in keys:
        print(
            "\t".join(
                [
                    k.key_id, k.tenant, ",".join(k.models), str(k.rpm or "-"),
                    str(k.tpm or "-"), "yes" if k.admin else "no", _when(k.created_ms),
                    _when(k.revoked_ms) if k.revoked_ms else "-",
                ]
            )
        )  # fmt: skip
    return OK


def _revoke(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    at = int(datetime.now(UTC).timestamp() * 1000)
    done = asyncio.run(_with_store(settings, lambda store: store.revoke_key(args.key_id, at)))
    if not done:
        print(f"bad input: no active key {args.key_id}", file=sys.stderr)
        return BAD_INPUT
    print(f"revoked {args.key_id} (gateways stop accepting it within tenants.refresh_seconds)",
          file=sys.stderr)  # fmt: skip
    return OK


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
