"""Putting a :class:`Reply` on the wire with its :class:`Pacing`: delays, holds, wire faults."""

from __future__ import annotations

import asyncio
import contextlib

from veritee.upstream_sim.directives import Fault
from veritee.upstream_sim.holds import Holds
from veritee.upstream_sim.http import Connection, frame_chunk
from veritee.upstream_sim.reply import Pacing, Reply


def deliver_now(reply: Reply, conn: Connection) -> None:
    """The fast path: the whole reply in one write."""
    if reply.groups is None:
        conn.send(reply.status, reply.headers, reply.body)
        return
    conn.send_head(reply.status, reply.headers)
    conn.write(b"".join(map(frame_chunk, (*reply.groups, b""))))


async def deliver(reply: Reply, pacing: Pacing, conn: Connection, holds: Holds) -> None:
    """Send ``reply`` as ``pacing`` says; see ``docs/upstream-sim.md`` for each fault."""
    if pacing.latency:
        await asyncio.sleep(pacing.latency)
    fault = pacing.fault
    if fault is Fault.RESET:
        conn.reset()
        return
    if fault is Fault.STALL_BEFORE:
        await _stall(conn, pacing.stall_max)
        conn.close()
        return
    if reply.groups is None:
        await _deliver_body(reply, pacing, conn, holds)
        return
    groups = reply.groups
    sent = len(groups)
    if fault is Fault.STALL_AFTER:
        sent = 1
    elif fault is Fault.TRUNCATE:
        sent = max(1, len(groups) // 2)
    conn.send_head(reply.status, reply.headers)
    for index, group in enumerate(groups[:sent]):
        if index:
            await asyncio.sleep(pacing.chunk_delay)
        conn.write_chunk(group)
        await conn.drain()
        if index == 0 and pacing.hold is not None:
            await holds.wait(pacing.hold, pacing.hold_max)
    if fault is Fault.STALL_AFTER:
        await _stall(conn, pacing.stall_max)
    if fault in (Fault.STALL_AFTER, Fault.TRUNCATE):
        conn.close()  # FIN without the terminating zero-length chunk
        return
    conn.write_chunk(b"")


async def _deliver_body(reply: Reply, pacing: Pacing, conn: Connection, holds: Holds) -> None:
    """Non-streamed: ``hold`` delays the whole response; stall/truncate cut the body in half."""
    if pacing.fault in (Fault.STALL_AFTER, Fault.TRUNCATE):
        conn.send_head(reply.status, reply.headers, length=len(reply.body))
        conn.write(reply.body[: len(reply.body) // 2])
        if pacing.fault is Fault.STALL_AFTER:
            await _stall(conn, pacing.stall_max)
        conn.close()
        return
    if pacing.hold is not None:
        await holds.wait(pacing.hold, pacing.hold_max)
    conn.send(reply.status, reply.headers, reply.body)


async def _stall(conn: Connection, bound: float) -> None:
    """Send nothing until the client leaves, the server stops or ``bound`` seconds pass."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(conn.lost), bound)
