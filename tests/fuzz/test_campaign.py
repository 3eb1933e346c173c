"""Reading libFuzzer's output into the campaign's figures; seeds on disk."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from fuzz.campaign import markdown, parse_output, table, write_seeds

CLEAN = """INFO: Seed: 1234
#2\tINITED cov: 140 ft: 180 corp: 20/21Kb exec/s: 0 rss: 63Mb
#4096\tNEW    cov: 148 ft: 192 corp: 21/22Kb lim: 2048 exec/s: 4096 rss: 63Mb L: 1184/1184 MS: 1 ChangeBit-
#801542\tDONE   cov: 150 ft: 201 corp: 23/24Kb lim: 2048 exec/s: 13359 rss: 63Mb
Done 801542 runs in 60 second(s)
stat::number_of_executed_units: 801542
stat::average_exec_per_sec:     13359
stat::new_units_added:          3
stat::slowest_unit_time_sec:    1
stat::peak_rss_mb:              63
"""

CRASH = """#2\tINITED cov: 52 ft: 103 corp: 17/1Kb exec/s: 0 rss: 63Mb
#3071\tNEW    cov: 60 ft: 120 corp: 18/1Kb lim: 4096 exec/s: 0 rss: 63Mb

 === Uncaught Python exception: ===
TypeError: 'int' object is not iterable
Traceback (most recent call last):
  File "/repo/verifier/policy.py", line 140, in _parse
    _check_keys(snp, _SECTION_KEYS["sev-snp"], source, "[sev-snp]")
TypeError: 'int' object is not iterable

==1234== ERROR: libFuzzer: fuzz target exited
MS: 2 ChangeByte-InsertByte-; base unit: 0123
artifact_prefix='/w/artifacts/policy/'; Test unit written to /w/artifacts/policy/crash-abcdef
"""

TIMEOUT = """#2\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 0 rss: 63Mb
==77== ERROR: libFuzzer: timeout after 25 seconds
artifact_prefix='/w/a/'; Test unit written to /w/a/timeout-0011
"""


def test_a_clean_run() -> None:
    result = parse_output("snp_report", 60, 8, CLEAN, 0)
    assert (result.executions, result.exec_per_sec) == (801542, 13359)
    assert (result.coverage, result.features, result.corpus) == (150, 201, 23)
    assert (result.outcome, result.artifact, result.exception) == ("ok", None, None)
    assert (result.slowest_unit_sec, result.peak_rss_mb) == (1, 63)
    assert "snp_report" in table([result])


def test_a_crash() -> None:
    result = parse_output("policy", 60, 3, CRASH, 1)
    assert result.outcome == "crash"
    assert result.artifact == "/w/artifacts/policy/crash-abcdef"
    assert result.exception == "TypeError: 'int' object is not iterable"
    assert (result.coverage, result.executions) == (60, 3071)


def test_a_timeout() -> None:
    result = parse_output("x", 60, 1, TIMEOUT, 1)
    assert (result.outcome, result.artifact) == ("timeout", "/w/a/timeout-0011")


def test_seeds_replace_the_directory(tmp_path: Path) -> None:
    assert write_seeds(tmp_path / "s", [b"a", b"b", b"a"]) == 2
    assert write_seeds(tmp_path / "s", [b"c"]) == 1
    assert [p.read_bytes() for p in (tmp_path / "s").iterdir()] == [b"c"]


def test_a_saved_run_as_markdown() -> None:
    row = asdict(parse_output("snp_report", 60, 8, CLEAN, 0))
    lines = markdown([row]).splitlines()
    assert lines[0].startswith("| target | seconds | runs |")
    assert lines[2] == "| `snp_report` | 60 | 801,542 | 13,359 | 150 | 201 | 23 | 1 | 63 | ok |"
