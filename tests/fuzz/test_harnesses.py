"""Every fuzz harness on its seeds and a few hundred mutations, without atheris.

This keeps the harnesses from rotting between campaigns: a seed that no longer parses, a
target that lost its seeds, or a mutation that makes a parser raise an unnamed error
fails here (the long, coverage-guided run is ``make fuzz``; see docs/fuzzing.md).
"""

from __future__ import annotations

import pytest

from fuzz.contract import Context, Target
from fuzz.material import Material
from fuzz.mutate import mutations
from fuzz.targets import all_targets

TARGETS = all_targets()
MUTATIONS = 300


@pytest.mark.parametrize("name", list(TARGETS))
def test_seeds_reach_the_happy_path(name: str, material: Material, context: Context) -> None:
    target = TARGETS[name]
    seeds = list(target.seeds(material))
    assert seeds, f"{name} has no seeds"
    clean = 0
    for seed in seeds:
        try:
            target.run(context, seed)
        except target.allowed:
            continue
        clean += 1
    # A verifier target's seeds are genuine evidence: every one verifies. Elsewhere a seed
    # may be refused on purpose (an ARK is no VCEK), but at least one parses.
    if name.startswith("verify_"):
        assert clean == len(seeds)
    assert clean >= 1


@pytest.mark.parametrize("name", list(TARGETS))
def test_mutated_seeds_keep_the_contract(name: str, material: Material, context: Context) -> None:
    target: Target = TARGETS[name]
    harness = target.harness(context)
    seeds = list(target.seeds(material))
    for data in mutations(seeds, MUTATIONS, seed=name):
        harness(data)  # returns, or raises an error outside the target's allowed ones


def test_target_names_are_unique_and_described() -> None:
    assert len(TARGETS) == len({t.name for t in TARGETS.values()})
    assert all(t.summary and t.allowed and t.weight >= 1 for t in TARGETS.values())
