"""The gateway's background loops stop when cancelled, even after a swallowed cancellation.

Python 3.11's ``asyncio.wait_for`` (inside psycopg_pool) can return normally when the
cancellation arrives as its inner wait completes: seen here as a gateway on PostgreSQL that
never finished shutting down. ``swallowing`` does what it does, deterministically.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from gateway.loops import pause
from gateway.pool.logsync import LogSync
from gateway.tenants.registry import TenantRegistry


async def swallowing(entered: asyncio.Event) -> None:
    """Swallow the first cancellation (later ones go through, so a test can clean up)."""
    if entered.is_set():
        await asyncio.sleep(30)
        return
    entered.set()
    with contextlib.suppress(asyncio.CancelledError):  # as if the awaited work had completed
        await asyncio.sleep(30)


async def stops_after_cancel(task: asyncio.Task[Any], entered: asyncio.Event) -> bool:
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    if not done:
        task.cancel()  # a loop that went back to sleep: stop it for good, and fail
        await asyncio.gather(task, return_exceptions=True)
        return False
    return task.cancelled()


def test_a_loop_on_pause_stops_after_a_swallowed_cancellation() -> None:
    async def main() -> tuple[bool, bool]:
        async def loop(sleep: Any, entered: asyncio.Event) -> None:
            while True:
                await sleep(0.01)
                await swallowing(entered)

        results = []
        for sleep in (pause, asyncio.sleep):
            entered = asyncio.Event()
            task = asyncio.create_task(loop(sleep, entered))
            results.append(await stops_after_cancel(task, entered))
        return results[0], results[1]

    with_pause, with_plain_sleep = asyncio.run(main())
    assert with_pause
    assert not with_plain_sleep  # the failure this guards against, reproduced


@pytest.mark.parametrize("which", ["logsync", "tenants"])
def test_the_gateway_loops_stop_after_a_swallowed_cancellation(which: str) -> None:
    async def main() -> bool:
        entered = asyncio.Event()
        if which == "logsync":
            sync = LogSync.__new__(LogSync)
            sync._seconds = 0.01
            sync.sync_all = lambda: swallowing(entered)  # type: ignore[method-assign]
            task = asyncio.create_task(sync.run())
        else:
            registry = TenantRegistry.__new__(TenantRegistry)
            registry._refresh = 0.01
            registry.load = lambda: swallowing(entered)  # type: ignore[method-assign]
            task = asyncio.create_task(registry.refresh_forever())
        return await stops_after_cancel(task, entered)

    assert asyncio.run(main())
