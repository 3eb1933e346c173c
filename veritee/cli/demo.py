"""``veritee demo [--once]``: the whole path on this machine (``make demo``).

Starts the upstream simulator, two enclaves with simulated SEV-SNP evidence and the
gateway; verifies the enclaves and sends requests through the gateway with the official
``openai`` SDK, checking every receipt. With ``--once`` it stops there (exit 0 when every
check passed, 1 otherwise); without it, it keeps serving so that you can try the gateway
yourself, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from veritee.cli.exitcodes import BAD_INPUT, OK, VERIFICATION_FAILED


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo", help="run simulator, enclaves and gateway; send checked requests"
    )
    parser.add_argument("--once", action="store_true", help="exit after the demo requests")
    parser.add_argument("--enclaves", type=int, default=2, choices=range(1, 9), metavar="N")
    parser.add_argument(
        "--chain",
        choices=("embedded", "anvil"),
        default="embedded",
        help="anchor on the embedded chain (default) or a local anvil (npm ci installs it)",
    )
    parser.set_defaults(handler=_demo)


def _publish_forever(stack: Any, interval: float = 3.0) -> None:
    """Keep registering and anchoring while the demo runs (one round every ``interval``)."""
    stop = threading.Event()
    while not stop.wait(interval):
        try:
            stack.chain.publish(stack.settings)
        except Exception as exc:  # noqa: BLE001 - the demo keeps serving; say what happened
            print(f"anchoring round failed: {exc}", file=sys.stderr)


def _say(text: str) -> None:
    print(text, flush=True)


def _demo(args: argparse.Namespace) -> int:
    try:
        from veritee.demo import client
        from veritee.demo.stack import demo_stack
    except ImportError as exc:
        print(
            f"the demo needs the demo extra (pip install -e '.[demo]', which `make demo` "
            f"runs): {exc}",
            file=sys.stderr,
        )
        return BAD_INPUT
    with tempfile.TemporaryDirectory(prefix="veritee-demo-") as tmp:
        _say(f"Starting the upstream simulator, {args.enclaves} enclaves and the gateway...")
        with demo_stack(Path(tmp), enclaves=args.enclaves, chain=args.chain) as stack:
            _say(f"Gateway at {stack.gateway_url}; enclaves admitted after verification: "
                 f"{', '.join(stack.enclaves)}.")  # fmt: skip
            try:
                checked = client.run(stack, _say)
            except AssertionError as exc:
                print(f"FAILED: {exc}", file=sys.stderr)
                return VERIFICATION_FAILED
            _say(f"All {checked} receipts verified against keys this client attested itself.")
            if args.once:
                return OK
            publishing = threading.Thread(target=_publish_forever, args=(stack,), daemon=True)
            publishing.start()
            _say("")
            _say("The stack keeps running; try it (Ctrl-C to stop):")
            _say(f"  curl {stack.gateway_url}/v1/chat/completions -H 'authorization: Bearer "
                 f"{stack.api_key}' -H 'content-type: application/json' -d "
                 "'{\"model\": \"gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}' -i")  # fmt: skip
            _say(
                f"  curl {stack.gateway_url}/v1/enclaves -H 'authorization: Bearer {stack.api_key}'"
            )
            _say(f"  curl {stack.gateway_url}/v1/receipts/RECEIPT_ID/proof -H "
                 f"'authorization: Bearer {stack.api_key}'   (anchored every few seconds)")  # fmt: skip
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                _say("stopping")
    return OK
