"""Every command of the CLI on a corpus of bad inputs: a message and an exit code, no traceback.

The commands are found by walking the Typer application, so a new command is covered
without editing this file. Each command runs once with plausible values (taken from a
small world: sites, users, a patient, a donation and its batch), then once per bad
value of each of its parameters, chosen by the parameter's type: for a file, a missing
file, an empty, binary or non-UTF-8 file, a file of NaN and infinite numbers, a file of
hostile strings (also in well-formed rows, so that they reach the printed tables), a
folder, a sample sheet pointing outside its folder; for an output,
a path under a file, a path that does not exist, a name with ``[`` in it, a name too
long for the file system; for a number, NaN, infinities, 1e400 and text; for text,
rich markup, a spreadsheet formula, quotes, a newline and 5000 characters. And once
against a database that refuses connections, a file that is not a database and a
database in a folder that does not exist. Every run must end with an exit code of 0-4
and print no traceback.
"""

from __future__ import annotations

import inspect
import io
import os
import shutil
import sqlite3
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from vein2vein.cli import app, main
from vein2vein.cli.sessions import CliSessions

from .test_cli import ADMIN_PW, BATCH1, DIN1_13, OP_PW, QC_PW, build_world

# ---------------------------------------------------------------- who acts


#: Who runs each command group, and their password (for --password-stdin).
ACTORS: dict[str, tuple[str, str]] = {
    "admin": ("admin", ADMIN_PW),
    "op": ("op", OP_PW),
    "qc": ("qc", QC_PW),
}
_GROUP_ACTOR = {
    "site": "admin",
    "user": "admin",
    "patient": "op",
    "donation": "op",
    "batch": "op",
    "custody": "op",
    "process": "op",
}


def as_user(username: str) -> list[str]:
    """The global options that make the CLI act as ``username``.

    The one place this test spells authentication: the ``runner`` logs every user of
    the world in (``cli_sessions``), and ``-u NAME`` acts with NAME's session.
    """
    return ["-u", username]


def actor_for(command: tuple[str, ...]) -> tuple[str, str]:
    """The user (and password) a command runs as: QC unless its group is an operator's."""
    return ACTORS[_GROUP_ACTOR.get(command[0], "qc")]


# ---------------------------------------------------------------- the commands


def _walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(cmd, "commands"):
        for name, sub in sorted(cmd.commands.items()):
            yield from _walk(sub, (*path, name))
    else:
        yield path, cmd


COMMANDS: dict[tuple[str, ...], Any] = dict(_walk(typer.main.get_command(app), ()))


def test_the_walk_finds_every_command_group() -> None:
    groups = {path[0] for path in COMMANDS}
    assert {
        "init",
        "site",
        "user",
        "patient",
        "donation",
        "batch",
        "custody",
        "sign",
        "spec",
        "intake",
        "release",
        "process",
        "deviation",
        "comparability",
        "clinical",
        "invivo",
        "sc",
        "audit",
        "demo",
    } <= groups
    assert len(COMMANDS) >= 45


@dataclass(frozen=True)
class Param:
    """One parameter of a command, with what the test needs to know about it."""

    name: str
    option: str | None  # None for an argument
    kind: str  # path, float, int, str, flag
    required: bool
    multiple: bool


def _kind(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        return _kind(args[0])
    if typing.get_origin(annotation) is list and args:
        return _kind(args[0])
    return {Path: "path", float: "float", int: "int", bool: "flag"}.get(annotation, "str")


def params_of(cmd: Any) -> list[Param]:
    hints = typing.get_type_hints(inspect.unwrap(cmd.callback))
    out = []
    for p in cmd.params:
        is_argument = type(p).__name__.endswith("Argument")
        kind = "flag" if getattr(p, "is_flag", False) else _kind(hints.get(p.name, str))
        out.append(
            Param(
                name=str(p.name),
                option=None if is_argument else p.opts[0],
                kind=kind,
                required=bool(p.required),
                multiple=bool(p.multiple or p.nargs == -1),
            )
        )
    return out


# ---------------------------------------------------------------- the corpus

HOSTILE_TEXT = (
    "[/bold]=cmd|' /C calc'!A0 \"quoted\" [red]x[/red] @SUM(1) +1 -1\nsecond line",
    "x" * 5000,
    "",
)
BAD_FLOATS = ("nan", "inf", "-1e400", "abc")
BAD_INTS = ("1e400", "99999999999999999999999999", "-1", "x")
OUTPUT_NAMES = {"out", "table_out"}
ALWAYS_FLAGS = {"--password-stdin"}


@dataclass(frozen=True)
class Corpus:
    """Files and folders of bad input, made once."""

    root: Path
    inputs: dict[str, str]
    outputs: dict[str, str]
    good_input: str


def _make_corpus(root: Path) -> Corpus:
    root.mkdir(parents=True, exist_ok=True)
    (root / "plain.txt").write_text("a file, not a folder\n")
    (root / "folder").mkdir(exist_ok=True)
    (root / "outside.txt").write_text("barcode\n")
    inside = root / "sheets"
    inside.mkdir(exist_ok=True)
    files = {
        "empty.csv": b"",
        "binary.csv": bytes(range(256)) * 8,
        "latin1.csv": "patient_id,day,value\ncaf\xe9,1,2\n".encode("latin-1"),
        "numbers.csv": (
            b"patient_id,day,value,unit,batch,analyte,parameter,timestamp,lot,site,cqa,din\n"
            b"P1,nan,inf,%,X,viability,ph,2026-01-01T00:00:00Z,L1,HUB-A,viability,1e400\n"
            b"P1,1e400,-inf,%,X,viability,ph,2026-01-01T01:00:00Z,L1,HUB-A,viability,NaN\n"
        ),
        "hostile.csv": (
            b"patient_id,day,value,sample,patient,timepoint,source,sort,gex,tcr\n"
            b'"=cmd|\' /C calc\'!A0","[/bold]","""q""","a\nb",@x,M0,+x,-x,,\n'
        ),
        "long.csv": b"value\n" + b"9" * 200_000 + b"\n",
        # Well-formed rows whose text is rich markup: it reaches the printed tables.
        "markup-ids.csv": b"patient_id,day,value,group\n[/b]x,0,0,[/red]\n[/b]x,7,10,[/red]\n",
        "dupkeys.yaml": b"true_tox: [0.1, 0.2]\ntrue_tox: [0.3, 0.4]\nid: a\nid: b\n",
        "latin1.yaml": "name: caf\xe9\ntrue_tox: [0.1]\n".encode("latin-1"),
        "nan.json": b'{"schema_version": 1, "sample": "S", "n_cells": NaN}',
        "good.csv": b"a,b\n1,2\n",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    (inside / "sheet.csv").write_text(
        "sample,patient,timepoint,source,sort,gex,tcr\n"
        "S1,P1,M0,PROD,NoSo,,../outside.txt\nS2,P1,M01,PB,NoSo,,/etc/passwd\n"
    )
    inputs = {name: str(root / name) for name in files if name != "good.csv"}
    inputs |= {
        "missing": str(root / "missing.csv"),
        "folder": str(root / "folder"),
        "outside-sheet": str(inside / "sheet.csv"),
        "markup-name": str(root / "[bold]x[/bold].csv"),
    }
    outputs = {
        "under-a-file": str(root / "plain.txt" / "out"),
        "missing-parent": str(root / "no" / "such" / "folder" / "out.html"),
        "markup-name": str(root / "a[b]" / "[/bold]out.html"),
        "too-long": str(root / ("x" * 300 + ".html")),
        "folder-as-file": str(root / "folder"),
    }
    return Corpus(root, inputs, outputs, str(root / "good.csv"))


#: Values that reach past the first checks into the commands (the world's records).
NAMED: dict[str, str] = {
    "batch": BATCH1,
    "din": DIN1_13,
    "scan": DIN1_13,
    "patient": "PT-1",
    "site": "HUB-A",
    "test": "HUB-A",
    "reference": "HUB-B",
    "from_party": "HUB-A",
    "to_party": "courier",
    "kind": "crs",
    "design": "boin",
    "disposition": "released",
    "record": f"batch:{BATCH1}",
    "meaning": "reviewed",
    "analyte": "viability",
    "value": "85",
    "unit": "%",
    "doses": "3",
    "parameter": "ph",
    "role": "operator",
    "at": "2026-03-02T10:00:00Z",
    "collected_at": "2026-03-02T08:00:00Z",
    "started_at": "2026-03-02T10:00:00Z",
    "dose_cells": "1e8",
    "indication": "ALL",
    "weight_kg": "70",
    "volume_ml": "10",
    "step": "expansion",
    "batches": BATCH1,
    "trials": "5",
    "spec": "anti-cd19-cart-release",
}
#: Commands that would run for minutes on good input: only their bad runs are made.
SLOW_ON_GOOD_INPUT = {("demo",)}


@dataclass
class Run:
    """One invocation and what came of it."""

    argv: list[str]
    code: int
    output: str


def _value(param: Param, corpus: Corpus, scratch: Path) -> str:
    if param.name in NAMED:
        return NAMED[param.name]
    if param.kind == "path":
        if param.name in OUTPUT_NAMES:
            return str(scratch / "out" / "result.html")
        if param.name == "scenario":
            return str(corpus.root / "scenario.yaml")
        return corpus.good_input
    return {"float": "1", "int": "1"}.get(param.kind, "X")


def _argv(command: tuple[str, ...], values: dict[str, str], params: list[Param]) -> list[str]:
    argv = [*command]
    for p in params:
        if p.name not in values:
            continue
        argv += [values[p.name]] if p.option is None else [p.option, values[p.name]]
    return argv


def _bad_values(param: Param, corpus: Corpus) -> list[str]:
    if param.kind == "path":
        return list((corpus.outputs if param.name in OUTPUT_NAMES else corpus.inputs).values())
    if param.kind == "float":
        return list(BAD_FLOATS)
    if param.kind == "int":
        return list(BAD_INTS)
    if param.kind == "str":
        return list(HOSTILE_TEXT)
    return []


def _invocations(command: tuple[str, ...], corpus: Corpus, scratch: Path) -> Iterator[list[str]]:
    every = params_of(COMMANDS[command])
    # The password comes from standard input (a prompt would need a terminal).
    flags = [p.option for p in every if p.option in ALWAYS_FLAGS]
    params = [p for p in every if p.kind != "flag"]
    base = {p.name: _value(p, corpus, scratch) for p in params if p.required}
    if command not in SLOW_ON_GOOD_INPUT:
        yield [*_argv(command, base, params), *flags]
    for p in params:
        for bad in _bad_values(p, corpus):
            yield [*_argv(command, {**base, p.name: bad}, params), *flags]


# ---------------------------------------------------------------- running


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world (admin, op, qc, HUB-A, HUB-B, PT-1, DIN1 and BATCH1), built once."""
    path = tmp_path_factory.mktemp("corpus-world") / "world.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path.parent)
        mp.delenv("VEIN2VEIN_USER", raising=False)
        mp.delenv("VEIN2VEIN_CONFIG", raising=False)
        mp.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
        mp.setenv("VEIN2VEIN_SESSION_DIR", str(path.parent / "sessions"))

        def run(*argv: str, stdin: str) -> int:
            mp.setattr("sys.stdin", io.StringIO(stdin))
            return main(list(argv))

        build_world(run)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    made = _make_corpus(tmp_path_factory.mktemp("corpus"))
    (made.root / "scenario.yaml").write_text("true_tox: [0.05, 0.1, 0.3]\n")
    return made


@pytest.fixture
def runner(
    tmp_path: Path,
    world_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cli_sessions: CliSessions,
) -> Callable[[list[str], tuple[str, str]], Run]:
    """Run ``vein2vein`` in-process on this test's own copy of the world, users logged in."""
    db = tmp_path / "world.db"
    with closing(sqlite3.connect(world_file)) as src, closing(sqlite3.connect(db)) as dst:
        src.backup(dst)
    cli_sessions(f"sqlite:///{db}")
    # A copy of the session's key: `keys rotate` on good input replaces only this one.
    key = tmp_path / "key" / "signing-key.pem"
    key.parent.mkdir()
    shutil.copy2(os.environ["VEIN2VEIN_SIGNING_KEY"], key)
    monkeypatch.setenv("VEIN2VEIN_SIGNING_KEY", str(key))
    monkeypatch.setenv("VEIN2VEIN_WITNESS_DIR", str(tmp_path / "witness"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{db}")

    def run(argv: list[str], actor: tuple[str, str]) -> Run:
        username, password = actor
        full = [*as_user(username), *argv]
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{password}\n"))
        capsys.readouterr()
        try:
            code = main(full)
        except BaseException as exc:  # noqa: BLE001 - the test reports any escape
            out, err = capsys.readouterr()
            return Run(full, -1, f"{out}\n{err}\nescaped main: {exc!r}")
        out, err = capsys.readouterr()
        return Run(full, code, f"{out}\n{err}")

    return run


def _problems(runs: list[Run]) -> list[str]:
    bad = []
    for r in runs:
        if not 0 <= r.code <= 4 or "Traceback" in r.output or "escaped main" in r.output:
            shown = [a if len(a) < 80 else a[:40] + "..." for a in r.argv]
            bad.append(f"exit {r.code}: {shown}\n{r.output[-1500:]}")
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_no_command_shows_a_traceback_on_bad_input(
    command: tuple[str, ...],
    corpus: Corpus,
    runner: Callable[[list[str], tuple[str, str]], Run],
    tmp_path: Path,
) -> None:
    actor = actor_for(command)
    runs = []
    for argv in _invocations(command, corpus, tmp_path):
        runs.append(runner(argv, actor))
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
    assert runs
    problems = _problems(runs)
    assert not problems, "\n\n".join(problems)


BAD_DATABASES = {
    "refused": "postgresql+psycopg://nobody:secret@127.0.0.1:9/nothing",
    "not a database": "sqlite:///{root}/binary.csv",
    "missing folder": "sqlite:///{root}/no/such/folder/v2v.db",
}


@pytest.mark.parametrize("database", list(BAD_DATABASES))
def test_a_database_that_cannot_be_used_is_a_message_not_a_traceback(
    database: str,
    corpus: Corpus,
    runner: Callable[[list[str], tuple[str, str]], Run],
    tmp_path: Path,
) -> None:
    url = BAD_DATABASES[database].format(root=corpus.root)
    runs = []
    for command in sorted(COMMANDS):
        if command in SLOW_ON_GOOD_INPUT and database == "missing folder":
            continue
        argv = next(iter(_invocations(command, corpus, tmp_path)))
        runs.append(runner(["--db", url, *argv], actor_for(command)))
    problems = _problems(runs)
    assert not problems, "\n\n".join(problems)
    # The database is the first thing most commands need: they say so and exit 4.
    touched = [r for r in runs if "database cannot be used" in r.output or "no schema" in r.output]
    assert len(touched) >= 10
    assert all(r.code == 4 for r in touched)
