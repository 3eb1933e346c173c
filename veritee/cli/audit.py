"""``veritee audit export``: an audit bundle from the gateway's store, for compliance.

``veritee audit export --config gateway.toml --from T --to T [--tenant X] --out bundle.tar
[--collateral FILE]``: the receipts whose enclave time is in ``[from, to)`` (ISO 8601 or
milliseconds since the epoch), with their enclaves' attestation documents, the policy, the
checkpoints, Merkle paths and anchoring records (``docs/transparency.md``). Check it with
``veritee verify bundle``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from veritee.cli.exitcodes import BAD_INPUT, COULD_NOT_CHECK, OK


def register(sub: Any) -> None:
    parser = sub.add_parser("audit", help="audit bundles for compliance teams")
    commands = parser.add_subparsers(dest="audit_command", metavar="COMMAND")
    export = commands.add_parser("export", help="write an audit bundle from the gateway's store")
    export.add_argument("--config", required=True, help="the gateway's TOML configuration")
    export.add_argument("--from", dest="since", metavar="T", help="first time (inclusive)")
    export.add_argument("--to", dest="until", metavar="T", help="end time (exclusive)")
    export.add_argument("--tenant", help="only this tenant's receipts")
    export.add_argument("--out", type=Path, required=True, help="the bundle to write (.tar)")
    export.add_argument(
        "--collateral",
        type=Path,
        metavar="F",
        help="a collateral bundle (JSON) to include (default: the gateway's, if it is one)",
    )
    export.set_defaults(handler=_export)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return BAD_INPUT


def parse_when(text: str | None, name: str) -> int | None:
    """Milliseconds since the epoch, from digits or ISO 8601 (with a time zone)."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is neither milliseconds nor ISO 8601") from None
    if when.tzinfo is None:
        raise ValueError(f"{name}: {text!r} has no time zone; add Z or an offset")
    return int(when.timestamp() * 1000)


def _export(args: argparse.Namespace) -> int:
    from gateway.audit.export import ExportRequest, export_bundle
    from gateway.config import load_settings
    from gateway.errors import ConfigError, StoreError
    from gateway.store import open_store
    from verifier.audit import write_bundle

    try:
        settings = load_settings(args.config)
        since, until = parse_when(args.since, "--from"), parse_when(args.until, "--to")
        if since is not None and until is not None and until <= since:
            raise ValueError("--to must be after --from")
        if settings.attestation.policy is None:
            raise ConfigError("the gateway has no policy file", key="attestation.policy")
        collateral = args.collateral or settings.attestation.collateral
        if collateral is not None and collateral.is_dir():
            raise ValueError(
                f"the gateway's collateral is a directory ({collateral}): pass --collateral "
                "with a collateral bundle (JSON) to include"
            )
        request = ExportRequest(
            since_ms=since,
            until_ms=until,
            tenant=args.tenant,
            policy=settings.attestation.policy.read_bytes(),
            contract=settings.anchor.contract,
            collateral=collateral.read_bytes() if collateral else None,
        )
    except (ConfigError, ValueError, OSError) as exc:
        print(f"bad input: {exc}", file=sys.stderr)
        return BAD_INPUT

    async def export() -> Any:
        async with open_store(settings.store) as store:
            return await export_bundle(store, request)

    try:
        manifest, files = asyncio.run(export())
    except StoreError as exc:
        print(f"could not reach the store: {exc}", file=sys.stderr)
        return COULD_NOT_CHECK
    write_bundle(args.out, manifest, files)
    counts = manifest.counts
    print(
        f"wrote {args.out}: {counts['receipts']} receipts, {counts['checkpoints']} checkpoints "
        f"({counts['anchorings']} anchored), {counts['enclaves']} enclaves"
    )
    for warning in manifest.warnings:
        print(f"  NOTE {warning}")
    return OK
