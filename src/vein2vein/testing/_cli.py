"""What a CLI call gave, for tests that run ``vein2vein.cli.main`` in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CliResult:
    """Exit code and output of one CLI call (ANSI colours already removed)."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """Stdout and stderr with rich's line wrapping undone (whitespace collapsed)."""
        return " ".join(f"{self.out}\n{self.err}".split())

    def json(self) -> Any:
        """Stdout parsed as JSON (the ``--json`` output)."""
        return json.loads(self.out)


Cli = Callable[..., CliResult]
"""``cli("-u", "operator", "patient", "add", ..., stdin="...")`` -> :class:`CliResult`."""


def assert_ok(result: CliResult) -> CliResult:
    """Assert a CLI call exited 0, showing its output if not; return it.

    >>> assert_ok(CliResult(0, "done", "")).out
    'done'
    """
    assert result.code == 0, result.text
    return result
