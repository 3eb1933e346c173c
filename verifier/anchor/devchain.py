"""Local development chains: a real ``anvil`` process, and funded throwaway accounts.

``anvil`` comes from npm, from the per-platform package of Foundry's ``@foundry-rs/anvil``
(``@foundry-rs/anvil-linux-amd64``, pinned in ``package.json``). That package is just the
binary, with no install script, so ``npm ci --ignore-scripts`` installs it and links it::

    node_modules/.bin/anvil -> ../@foundry-rs/anvil-linux-amd64/bin/anvil

:func:`find_anvil` looks there (from the working directory and from this checkout upwards),
then on ``PATH`` (other platforms: install Foundry's anvil). :class:`Anvil` starts it on
127.0.0.1 with port 0, so the kernel picks a free port and no two runs can collide; the
port is read back from anvil's own log line. It starts in about 0.2 s. The demo
(``make demo CHAIN=anvil``) and the tests use it.

Nothing here is for production: :func:`funded_account` takes ether from the node's unlocked
dev account, which only development chains (anvil, eth-tester) have.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import Wei

_LISTENING = re.compile(rb"Listening on ([0-9.]+):(\d+)")
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
#: 100 ether: plenty for any test or demo run.
DEV_FUNDING_WEI = 100 * 10**18


class DevChainError(RuntimeError):
    """anvil is missing, or did not start."""


def _platform_package() -> str:
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    return f"anvil-{system}-{arch}"


def find_anvil(*, search_from: Path | None = None) -> Path | None:
    """The anvil binary from ``node_modules`` (searched upwards), else from ``PATH``."""
    relatives = (
        Path("node_modules", ".bin", "anvil"),
        Path("node_modules", "@foundry-rs", _platform_package(), "bin", "anvil"),
    )
    starts = [search_from or Path.cwd(), Path(__file__).resolve().parent]
    for start in starts:
        for directory in (start, *start.parents):
            for relative in relatives:
                candidate = directory / relative
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return candidate.resolve()
    found = shutil.which("anvil")
    return Path(found) if found else None


class Anvil:
    """A running anvil on 127.0.0.1. Use as a context manager, or call :meth:`stop`.

    ``extra_args`` go to anvil as they are (e.g. ``["--no-mining"]``).
    """

    def __init__(
        self,
        *,
        binary: Path | None = None,
        chain_id: int = 31337,
        block_time_s: float | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout_s: float = 15.0,
    ) -> None:
        found = binary or find_anvil()
        if found is None:
            raise DevChainError(
                "anvil not found: run `npm ci` in the repository, or put it on PATH"
            )
        self._workdir = tempfile.TemporaryDirectory(prefix="veritee-anvil-")
        self.log_path = Path(self._workdir.name) / "anvil.log"
        args = [str(found), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id)]
        if block_time_s is not None:
            args += ["--block-time", f"{block_time_s:g}"]
        args.extend(extra_args)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed binary, no shell
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            self.port = self._wait_for_port(startup_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"
        self.chain_id = chain_id

    def _wait_for_port(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log_path.read_bytes())
            if match:
                return int(match.group(2))
            if self.process.poll() is not None:
                tail = self.log_path.read_bytes()[-2000:].decode(errors="replace")
                raise DevChainError(f"anvil exited with {self.process.returncode}: {tail}")
            time.sleep(0.01)
        raise DevChainError(f"anvil did not start listening within {timeout_s:g} s")

    def stop(self) -> None:
        """Terminate anvil (kill it if it lingers) and remove its log directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._workdir.cleanup()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def funded_account(w3: Web3, *, value_wei: int = DEV_FUNDING_WEI) -> LocalAccount:
    """A fresh random local account, funded from the dev chain's first unlocked account."""
    account: LocalAccount = Account.create()
    tx_hash = w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": account.address, "value": Wei(value_wei)}
    )
    w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.01)
    return account
