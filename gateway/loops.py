"""The pause of the gateway's background loops (health, keysets, API keys, log sync, anchoring).

On Python 3.11, ``asyncio.wait_for`` returns its result instead of raising when a
cancellation arrives just as the awaited future completes, and libraries on the gateway's
paths use it (``psycopg_pool`` waits for a free connection with it). A loop whose round
swallowed the cancellation that way would go back to sleep and run forever, holding up the
gateway's shutdown. The request stays recorded on the task (``Task.cancelling()``), so
each loop's pause checks it first and ends the loop.
"""

from __future__ import annotations

import asyncio


async def pause(seconds: float) -> None:
    """``asyncio.sleep(seconds)``, unless the task was asked to stop: then it stops now."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    await asyncio.sleep(seconds)
