"""Specs written to real files in a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from vein2vein.specs import Specification, load_spec

HEADER = """\
schema_version: 1
id: test-spec
title: Test spec
version: "1.0"
effective_date: 2025-01-01
product: test product
stage: final_product
source: unit tests
items:
"""

SpecFactory = Callable[..., Specification]
TextFactory = Callable[[str], Path]


def spec_text(items: str) -> str:
    """A full spec document around the given (dedented) items block."""
    return HEADER + textwrap.indent(textwrap.dedent(items).strip("\n") + "\n", "  ")


@pytest.fixture
def write_yaml(tmp_path: Path) -> TextFactory:
    """Write YAML text to a real file and return its path."""
    counter = iter(range(1_000_000))

    def write(text: str) -> Path:
        path = tmp_path / f"spec{next(counter)}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_spec(write_yaml: TextFactory) -> SpecFactory:
    """Load a spec whose items block is given as YAML text."""

    def make(items: str) -> Specification:
        return load_spec(write_yaml(spec_text(items)))

    return make


@pytest.fixture
def one_item(make_spec: SpecFactory) -> Callable[..., Specification]:
    """A spec with a single item ``x`` of the given unit and criterion (flow YAML)."""

    def make(criterion: str, unit: str | None = None, **extra: object) -> Specification:
        lines = ["- analyte: x", "  name: x", f"  criterion: {criterion}"]
        if unit is not None:
            lines.append(f'  unit: "{unit}"')
        lines += [f"  {key}: {value}" for key, value in extra.items()]
        return make_spec("\n".join(lines))

    return make
