"""The package's public names, and that importing it does not import web3."""

from __future__ import annotations

import subprocess
import sys

import verifier.anchor
from tests.conftest import REPO


def test_every_public_name_resolves() -> None:
    for name in verifier.anchor.__all__:
        assert getattr(verifier.anchor, name) is not None, name


def test_importing_the_package_does_not_import_web3() -> None:
    code = "import sys, verifier.anchor; print('web3' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "False"
