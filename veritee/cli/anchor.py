"""``veritee anchor``: deploy the contracts, register enclaves, publish checkpoints, status.

- ``veritee anchor deploy --rpc URL (--key-file F | --key-env NAME) [--owner ADDR]
  [--out deployment.json]``: an ``EnclaveRegistry`` and its ``TranscriptAnchor``;
- ``veritee anchor register --config gateway.toml``: register, in the registry, every
  enclave the gateway admitted, after verifying its stored evidence again (registry owner's
  key);
- ``veritee anchor run --config gateway.toml [--once]``: the publisher
  (``gateway.anchoring.publisher``): anchors the store's checkpoints, in order, once each;
- ``veritee anchor status --config gateway.toml [--json]``: per signer, how many checkpoints
  are pending, submitted, confirmed, waiting or rejected (from the store).

The ``[anchor]`` section of the gateway's configuration names the chain, the contract and
the key (``docs/transparency.md``). Keys are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from veritee.cli.common import print_json
from veritee.cli.exitcodes import BAD_INPUT, COULD_NOT_CHECK, OK, VERIFICATION_FAILED
from veritee.cli.gateway import config_guard

T = TypeVar("T")


def register(sub: Any) -> None:
    parser = sub.add_parser("anchor", help="the anchor chain: deploy, register, publish")
    commands = parser.add_subparsers(dest="anchor_command", metavar="COMMAND")

    deploy = commands.add_parser("deploy", help="deploy an EnclaveRegistry and its anchor")
    deploy.add_argument("--rpc", required=True, metavar="URL", help="the chain (http(s)://...)")
    keys = deploy.add_mutually_exclusive_group(required=True)
    keys.add_argument("--key-file", type=Path, metavar="F", help="hex private key, in a file")
    keys.add_argument("--key-env", metavar="NAME", help="environment variable holding the key")
    deploy.add_argument("--owner", metavar="ADDR", help="the registry's owner (default: the key)")
    deploy.add_argument("--out", type=Path, metavar="F", help="write the deployment as JSON")
    deploy.set_defaults(handler=config_guard(_deploy))

    for name, handler, text in (
        ("register", _register, "register the admitted enclaves (after verifying them again)"),
        ("run", _run, "publish the store's checkpoints to the anchor"),
        ("status", _status, "pending/submitted/confirmed checkpoints per signer"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--config", required=True, help="the gateway's TOML configuration")
        if name == "run":
            command.add_argument("--once", action="store_true", help="one round, then exit")
        else:
            command.add_argument("--json", action="store_true", help="print JSON")
        command.set_defaults(handler=config_guard(handler))
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return BAD_INPUT


def _deploy(args: argparse.Namespace) -> int:
    from gateway.anchoring.chain import load_account
    from gateway.settings import AnchorSettings
    from transcript.keys import parse_address
    from verifier.anchor import EMBEDDED, TransactionSender, connect, deploy

    if args.rpc == EMBEDDED:
        print(
            "bad input: the embedded chain lives only inside one process (veritee demo "
            "deploys on it itself); give an RPC URL",
            file=sys.stderr,
        )
        return BAD_INPUT
    owner = None
    if args.owner is not None:
        try:
            owner = parse_address(args.owner)
        except ValueError as exc:
            print(f"bad input: --owner: {exc}", file=sys.stderr)
            return BAD_INPUT
    account = load_account(AnchorSettings(key_file=args.key_file, key_env=args.key_env), os.environ)
    deployment = deploy(TransactionSender(connect(args.rpc), account), owner=owner)
    text = orjson.dumps(deployment.to_dict(), option=orjson.OPT_INDENT_2).decode()
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(
        f'set [anchor] contract = "{deployment.anchor}" and from_block = '
        f"{deployment.block_number} in the gateway's configuration",
        file=sys.stderr,
    )
    return OK


def _with_store(args: argparse.Namespace, job: Callable[[Any, Any], Awaitable[T]]) -> T:
    from gateway.config import load_settings
    from gateway.store import open_store

    settings = load_settings(args.config)

    async def main() -> T:
        async with open_store(settings.store) as store:
            return await job(settings, store)

    return asyncio.run(main())


def _chain(settings: Any) -> Any:
    from gateway.anchoring.chain import load_account, open_chain

    return open_chain(settings.anchor, load_account(settings.anchor, os.environ))


def _registrar(settings: Any, store: Any, chain: Any) -> Any:
    from gateway.anchoring.registrar import Registrar
    from gateway.trust import load_trust
    from verifier.collateral import open_collateral

    policy, roots = load_trust(settings.attestation)
    attestation = settings.attestation
    collateral = open_collateral(
        attestation.collateral, fetch_cache=attestation.fetch_collateral_cache
    )
    return Registrar(
        store=store, registry=chain.registry, policy=policy, roots=roots, collateral=collateral
    )


def _register(args: argparse.Namespace) -> int:
    async def job(settings: Any, store: Any) -> list[Any]:
        chain = await asyncio.to_thread(_chain, settings)
        return list(await _registrar(settings, store, chain).register_all())

    outcomes = _with_store(args, job)
    if args.json:
        print_json({"registrations": [vars(o) for o in outcomes]})
    for o in outcomes if not args.json else []:
        print(f"{o.state.upper():10} {o.signer}: {o.detail}")
    if not outcomes and not args.json:
        print("no admitted enclave is waiting for registration")
    return VERIFICATION_FAILED if any(o.state == "refused" for o in outcomes) else OK


def _run(args: argparse.Namespace) -> int:
    from gateway.anchoring.publisher import Publisher
    from gateway.obs.logs import configure

    async def job(settings: Any, store: Any) -> int:
        chain = await asyncio.to_thread(_chain, settings)
        registrar = _registrar(settings, store, chain) if settings.anchor.register else None
        publisher = Publisher(
            store=store,
            chain=chain,
            registrar=registrar,
            confirmations=settings.anchor.confirmations,
        )
        if not args.once:
            configure("info")
            await publisher.run(settings.anchor.interval_seconds)
            return OK
        report = await publisher.round()
        for signer in report.registered:
            print(f"registered {signer}")
        for signer, r in report.signers.items():
            done = f"{len(r.anchored)} anchored, {r.learned} found anchored, {r.rejected} rejected"
            line = f"{r.state.upper():12} {signer}: {done}"
            print(line + (f"; {r.message}" if r.message else ""))
        states = {r.state for r in report.signers.values()}
        if "unavailable" in states:
            return COULD_NOT_CHECK
        return VERIFICATION_FAILED if "blocked" in states else OK

    return _with_store(args, job)


def _status(args: argparse.Namespace) -> int:
    async def job(settings: Any, store: Any) -> dict[str, Any]:
        contract = settings.anchor.contract
        if contract is None:
            from gateway.errors import ConfigError

            raise ConfigError("no anchor contract is configured", key="anchor.contract")
        out: dict[str, Any] = {"contract": contract, "signers": {}}
        for summary in await store.anchor_summary(contract):
            records = await store.anchor_records(
                contract, summary.signer, after_seq=summary.confirmed_to_seq, limit=20
            )
            problems = [
                {"first_seq": r.first_seq, "last_seq": r.last_seq, "state": r.state,
                 "error": r.error, "tx_hash": r.tx_hash}
                for r in records if r.state in ("waiting", "rejected", "submitted")
            ]  # fmt: skip
            out["signers"][summary.signer] = {
                "counts": {
                    state: summary.counts.get(state, 0)
                    for state in ("pending", "submitted", "confirmed", "waiting", "rejected")
                },
                "checkpointed_to_seq": summary.checkpointed_to_seq,
                "confirmed_to_seq": summary.confirmed_to_seq,
                "attention": problems,
            }
        return out

    status = _with_store(args, job)
    if args.json:
        print_json(status)
        return OK
    print(f"anchor {status['contract']}")
    if not status["signers"]:
        print("  no checkpoints in the store yet")
    for signer, s in status["signers"].items():
        counts = ", ".join(f"{n} {state}" for state, n in s["counts"].items())
        print(f"  {signer}: {counts}; anchored up to seq {s['confirmed_to_seq']} of "
              f"{s['checkpointed_to_seq']} checkpointed")  # fmt: skip
        for p in s["attention"]:
            detail = p["error"] or f"transaction 0x{p['tx_hash']}"
            print(f"    {p['state'].upper()} seq {p['first_seq']}..{p['last_seq']}: {detail}")
    return OK
