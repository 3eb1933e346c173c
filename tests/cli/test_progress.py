"""The progress bar: drawn on a terminal only, on stderr, and never on stdout."""

from __future__ import annotations

import io

from veritee.cli.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_that_ends_its_line() -> None:
    out = Terminal()
    bar = ProgressBar("verifying", stream=out)
    bar(0, 200)
    bar(200, 200)
    bar.close()
    text = out.getvalue()
    assert text.startswith("\rverifying [") and text.endswith("100% 200/200\n")
    assert "#" * 30 in text


def test_a_pipe_gets_nothing() -> None:
    out = io.StringIO()
    bar = ProgressBar("verifying", stream=out)
    bar(5, 10)
    bar.close()
    assert out.getvalue() == ""
