"""The enclave process: read the configuration, build the app, serve until stopped.

Two ways in, one behaviour: ``veritee enclave serve --config F`` (the CLI, which imports
this module lazily so that the rest of the CLI works without the ``enclave`` extra) and
``python -m enclave --config F`` (the image's entrypoint, which needs nothing outside
``transcript``, ``attestation`` and ``enclave``). Exit codes: 0 after a clean shutdown
(SIGTERM), 2 for a bad configuration, 130 for SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from enclave.app import create_app
from enclave.errors import ConfigError
from enclave.server import serve
from enclave.settings import load_settings

OK, BAD_CONFIG, INTERRUPTED = 0, 2, 130


def run(config: Path) -> int:
    """Serve with the settings in ``config``; report a bad configuration on stderr."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = load_settings(config)
        app = create_app(settings)
    except ConfigError as exc:
        sys.stderr.write(f"bad configuration: {exc}\n")
        return BAD_CONFIG
    try:
        serve(app, settings)
    except KeyboardInterrupt:
        return INTERRUPTED
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m enclave", description="Serve the veritee enclave proxy."
    )
    parser.add_argument("--config", required=True, type=Path, help="TOML configuration file")
    return run(parser.parse_args(argv).config)
