"""The enclave process: read the configuration, build the app, serve until stopped.

``veritee enclave serve`` calls :func:`run`; it imports this module lazily so that the
rest of the CLI works without the ``enclave`` extra installed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from enclave.app import create_app
from enclave.errors import ConfigError
from enclave.server import serve
from enclave.settings import load_settings

__all__ = ["ConfigError", "run"]


def run(config: Path) -> None:
    """Serve with the settings in ``config``; raise :class:`ConfigError` if they are bad."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings(config)
    serve(create_app(settings), settings)
