"""A small deterministic mutator: the fast test runs every harness on mutated seeds.

It needs no atheris, so ``make test`` keeps every harness working without fuzzing: each
mutation is one to four byte-level edits (bit flips, interesting values, inserted, erased,
duplicated or spliced ranges, truncation), drawn from a generator seeded by the caller.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence

_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF)
_INTERESTING_WORDS = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)


def _flip(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    if data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)


def _byte(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    if data:
        data[rng.randrange(len(data))] = rng.choice(_INTERESTING)


def _word(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    size = rng.choice((2, 4))
    if len(data) >= size:
        at = rng.randrange(len(data) - size + 1)
        value = rng.choice(_INTERESTING_WORDS) & ((1 << (8 * size)) - 1)
        data[at : at + size] = value.to_bytes(size, rng.choice(("little", "big")))


def _insert(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    at = rng.randrange(len(data) + 1)
    data[at:at] = rng.randbytes(rng.randrange(1, 9))


def _erase(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    if data:
        at = rng.randrange(len(data))
        del data[at : at + rng.randrange(1, 33)]


def _duplicate(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    if data:
        at = rng.randrange(len(data))
        chunk = data[at : at + rng.randrange(1, 65)]
        where = rng.randrange(len(data) + 1)
        data[where:where] = chunk


def _truncate(rng: random.Random, data: bytearray, _: Sequence[bytes]) -> None:
    if data:
        del data[rng.randrange(len(data)) :]


def _splice(rng: random.Random, data: bytearray, seeds: Sequence[bytes]) -> None:
    other = rng.choice(seeds)
    if data and other:
        cut = rng.randrange(len(data))
        data[cut:] = other[rng.randrange(len(other)) :]


_MUTATIONS: tuple[Callable[[random.Random, bytearray, Sequence[bytes]], None], ...] = (
    _flip, _flip, _byte, _word, _insert, _erase, _duplicate, _truncate, _splice,
)  # fmt: skip


def mutations(seeds: Sequence[bytes], count: int, *, seed: str) -> Iterator[bytes]:
    """``count`` mutated inputs drawn from ``seeds`` (deterministic for a given ``seed``)."""
    if not seeds:
        return
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 5)):
            rng.choice(_MUTATIONS)(rng, data, seeds)
        yield bytes(data)
