"""``vein2vein intake`` and ``vein2vein release``, run in-process against a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from vein2vein.cli import main
from vein2vein.records import Database
from vein2vein.specs import shipped_spec
from vein2vein.testing import PASSWORD, make_batch, make_donation, make_network

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
INTAKE_SPEC = shipped_spec("apheresis-intake")
RELEASE_SPEC = shipped_spec("anti-cd19-cart-release")

INTAKE = {
    "tnc [10^9 cells]": "3.2",
    "cd3_count [10^9 cells]": "1.5",
    "cd3_percent [%]": "45",
    "viability [%]": "95",
    "cd4_cd8_ratio": "1.4",
    "hematocrit [%]": "3",
    "granulocytes [%]": "5",
    "monocytes [%]": "25",
    "hiv_1_2": "non-reactive",
    "hbv": "negative",
    "hcv": "non-reactive",
    "htlv_1_2": "negative",
    "syphilis": "non-reactive",
}
INTAKE_COLUMNS = ["din", *INTAKE, "accept_with_deviation"]
CD3_LOW = "CD3+ T cells (count) 0.45 × 10⁹ cells < 0.6 × 10⁹ cells"

RELEASE: dict[str, tuple[str, str]] = {
    "appearance": ("conforms", ""),
    "car_expression": ("25", "%"),
    "viability": ("92", "%"),
    "car_t_dose": ("4.0e7", "cells"),
    "vcn": ("1.8", "copies/cell"),
    "ifng_release": ("2400", "pg/mL"),
    "endotoxin": ("<0.5", "EU/mL"),
    "sterility_rapid": ("no growth", ""),
    "sterility_14d": ("no growth", ""),
    "mycoplasma": ("not detected", ""),
    "rcl": ("not detected", ""),
}
VCN_OOS = "vector copy number (per transduced cell) 6.2 copies/cell > 5 copies/cell"


@dataclass
class Result:
    """Exit code and output of one CLI call."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr with rich's line wrapping undone (whitespace collapsed)."""
        return " ".join(f"{self.out}\n{self.err}".split())

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@dataclass(frozen=True)
class World:
    """A SQLite file with sites, users (password PASSWORD), donations and batches."""

    path: Path
    dins: tuple[str, ...]  # registered donations, not yet decided
    batches: tuple[str, ...]  # batches in process, no results yet


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The world, built once per module (password hashing is deliberately slow)."""
    path = tmp_path_factory.mktemp("release-cli") / "template.db"
    db = Database(f"sqlite:///{path}")
    try:
        net = make_network(db)  # admin, operator, qc-analyst, qa-reviewer, clinician
        dins = tuple(make_donation(net).din for _ in range(3))
        batches = tuple(make_batch(net).batch_code for _ in range(2))
    finally:
        db.dispose()
    return World(path, dins, batches)


@pytest.fixture
def world(template: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """A fresh copy of the world, used by the CLI through VEIN2VEIN_DATABASE_URL."""
    path = tmp_path / "v2v.db"
    with closing(sqlite3.connect(template.path)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
    return World(path, template.dins, template.batches)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """``cli("-u", "qa-reviewer", "release", ..., stdin="pw\\n")``: run ``main`` and capture."""
    monkeypatch.chdir(tmp_path)  # no stray vein2vein.toml or vein2vein.db is picked up
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)

    def run(*args: str, stdin: str | None = None) -> Result:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, _ANSI.sub("", out), _ANSI.sub("", err))

    return run


def ok(result: Result) -> Result:
    assert result.code == 0, result.text
    return result


def table_counts(path: Path) -> dict[str, int]:
    """Rows in every table of the SQLite file, read behind the application's back."""
    with closing(sqlite3.connect(path)) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql, params).fetchall()


def batch_status(world: World, code: str) -> str:
    return query(world.path, "SELECT status FROM batches WHERE batch_code = ?", code)[0][0]


def intake_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=INTAKE_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"din": "", **INTAKE, "accept_with_deviation": "", **row})
    return path


def export_csv(path: Path, batch: str, **changes: str) -> Path:
    """An instrument export of the release results of ``batch`` (value changes by analyte)."""
    lines = ["batch,analyte,value,unit"]
    for analyte, (value, unit) in RELEASE.items():
        if analyte in changes:
            value = changes[analyte]
        lines.append(f"{batch},{analyte},{value},{unit}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def results_in(cli: Cli, world: World, batch: str, tmp_path: Path, **changes: str) -> Any:
    """Import the results; a pending value is stored, and the import says so with exit 1."""
    path = export_csv(tmp_path / f"{batch}.csv", batch, **changes)
    r = cli("-u", "operator", "release", "import", str(path), "--json")
    pending = [a for a, v in changes.items() if v == "pending"]
    assert r.code == (1 if pending else 0), r.text
    for analyte in pending:
        assert f"{analyte}: 'pending' is pending" in r.text
    return r.json()


# ---------------------------------------------------------------- intake


def test_intake_import_decides_each_donation(world: World, cli: Cli, tmp_path: Path) -> None:
    good, bad, waived = world.dins
    path = intake_csv(
        tmp_path / "intake.csv",
        [{"din": good}, {"din": bad, "cd3_count [10^9 cells]": "0.45"}],
    )
    r = ok(cli("-u", "qc-analyst", "intake", "import", str(path)))
    assert "intake against apheresis-intake" in r.text
    assert good in r.text and bad in r.text
    assert "accepted" in r.text and "rejected" in r.text

    data = tmp_path / "intake.json"
    row = {**INTAKE, "din": waived, "cd3_count [10^9 cells]": "0.45"}
    data.write_text(
        json.dumps([{**row, "accept_with_deviation": "no further apheresis possible"}]),
        encoding="utf-8",
    )
    payload = ok(cli("-u", "qc-analyst", "intake", "import", str(data), "--json")).json()
    assert payload["spec"] == "apheresis-intake"
    assert payload["spec_sha256"] == INTAKE_SPEC.sha256
    (donation,) = payload["donations"]
    assert donation["din"] == waived
    assert donation["status"] == "accepted_with_deviation"
    assert donation["outcome"] == "fail"
    assert CD3_LOW in donation["reasons"]
    assert donation["deviation"] == "DEV-000001"
    assert isinstance(donation["evaluation_id"], int)

    assert dict(
        query(world.path, "SELECT din, status FROM donations WHERE din IN (?, ?, ?)", *world.dins)
    ) == {
        good: "accepted",
        bad: "rejected",
        waived: "accepted_with_deviation",
    }
    assert query(world.path, "SELECT spec_sha256 FROM evaluations") == [(INTAKE_SPEC.sha256,)] * 3


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ("{other}X", "line 3: check character 'X' does not match"),
        ("A999926000099", "line 3: DIN A999926000099 is not registered"),
        ("{good}", "line 3: DIN {good} appears twice"),
    ],
    ids=["bad DIN", "unregistered DIN", "duplicate DIN"],
)
def test_intake_bad_input_exits_2_and_writes_nothing(
    world: World, cli: Cli, tmp_path: Path, second: str, message: str
) -> None:
    good, other, _ = world.dins
    path = intake_csv(
        tmp_path / "intake.csv", [{"din": good}, {"din": second.format(good=good, other=other)}]
    )
    before = table_counts(world.path)

    r = cli("-u", "qc-analyst", "intake", "import", str(path))

    assert r.code == 2, r.text
    assert f"file {path}, field 'din': " + message.format(good=good, other=other) in r.text
    assert table_counts(world.path) == before


def test_intake_by_an_operator_exits_3_and_writes_nothing(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    path = intake_csv(tmp_path / "intake.csv", [{"din": world.dins[0]}])
    before = table_counts(world.path)
    r = cli("-u", "operator", "intake", "import", str(path))
    assert r.code == 3 and "may not intake.decide" in r.text
    assert table_counts(world.path) == before


# ---------------------------------------------------------------- release


def test_release_from_results_to_certificate(world: World, cli: Cli, tmp_path: Path) -> None:
    batch = world.batches[0]
    entered = results_in(cli, world, batch, tmp_path, sterility_14d="pending")
    assert len(entered["results"]) == len(RELEASE)
    assert entered["investigations"] == entered["deviations"] == entered["notifications"] == []

    r = ok(
        cli(
            *("-u", "operator", "release", "enter", batch),
            *("--analyte", "sterility_14d", "--value", "no growth", "--method", "USP <71>"),
        )
    )
    assert "1 result(s) entered" in r.text
    r = ok(
        cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68")
    )
    assert f"{batch}: patient 20 kg, dose volume 68 mL" in r.text

    review = ok(
        cli(
            *("-u", "qc-analyst", "release", "review", batch, "--password-stdin", "--json"),
            stdin=f"{PASSWORD}\n",
        )
    ).json()
    assert (review["outcome"], review["spec_id"], review["spec_sha256"]) == (
        "pass",
        "anti-cd19-cart-release",
        RELEASE_SPEC.sha256,
    )
    items = {i["analyte"]: i for i in review["items"]}
    assert items["sterility_14d"]["result_text"] == "no growth"
    assert items["car_t_dose"]["value"] == 2.0
    assert batch_status(world, batch) == "quarantine"

    r = ok(
        cli(
            *("-u", "qa-reviewer", "release", "decide", batch),
            *("--disposition", "released", "--password-stdin"),
            stdin=f"{PASSWORD}\n",
        )
    )
    assert f"{batch}: released (signed by qa-reviewer)" in r.text
    assert batch_status(world, batch) == "released"
    assert query(world.path, "SELECT meaning FROM signatures ORDER BY id") == [
        ("reviewed",),
        ("released",),
    ]

    out = tmp_path / "out" / "coa.pdf"
    r = ok(cli("release", "coa", batch, "--out", str(out)))
    assert "certificate of analysis written to" in r.text
    assert out.read_bytes().startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert batch in text and "Quinn Reviewer" in text and "Quincy Analyst" in text
    bad = cli("release", "coa", batch, "--out", str(tmp_path / "coa.txt"))
    assert bad.code == 2 and "must end in .pdf or .html" in bad.text


def test_a_refused_disposition_exits_1_with_its_reasons(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch = world.batches[1]
    entered = results_in(cli, world, batch, tmp_path, vcn="6.2")
    assert entered["investigations"] == ["OOS-000001"]
    r = ok(
        cli(
            "-u",
            "operator",
            "release",
            "enter",
            batch,
            "--analyte",
            "viability",
            "--value",
            "70",
            "--unit",
            "%",
        )
    )
    assert "OOS investigation OOS-000002 opened" in r.text and "viability 70 % < 80 %" in r.text
    ok(cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68"))

    decide = ("release", "decide", batch, "--password-stdin", "--disposition")
    before = table_counts(world.path)
    r = cli("-u", "qa-reviewer", *decide, "released", stdin=f"{PASSWORD}\n")
    assert r.code == 1, r.text
    assert f"{batch} cannot be released" in r.text
    assert "the results have not been reviewed against the specification" in r.text
    assert table_counts(world.path) == before

    ok(
        cli(
            *("-u", "qc-analyst", "release", "review", batch, "--password-stdin"),
            stdin=f"{PASSWORD}\n",
        )
    )
    before = table_counts(world.path)
    r = cli("-u", "qa-reviewer", *decide, "released", stdin=f"{PASSWORD}\n")
    assert r.code == 1, r.text
    assert "the specification is not met (fail)" in r.text and VCN_OOS in r.text
    r = cli("-u", "qa-reviewer", *decide, "rejected", stdin=f"{PASSWORD}\n")
    assert r.code == 1 and "a rejection needs a reason" in r.text
    r = cli(
        "-u", "qc-analyst", *decide, "rejected", "--justification", "VCN OOS", stdin=f"{PASSWORD}\n"
    )
    assert r.code == 3 and "may not lot.disposition" in r.text
    r = cli(
        "-u", "qa-reviewer", *decide, "rejected", "--justification", "VCN OOS", stdin="guess-1234\n"
    )
    assert r.code == 3 and "re-authentication failed" in r.text
    assert table_counts(world.path) == before
    assert batch_status(world, batch) == "quarantine"

    r = ok(
        cli(
            "-u",
            "qa-reviewer",
            *decide,
            "rejected",
            "--justification",
            "VCN OOS",
            "--json",
            stdin=f"{PASSWORD}\n",
        )
    )
    assert r.json()["disposition"] == "rejected"
    assert batch_status(world, batch) == "rejected"


def test_bad_release_input_exits_2_and_writes_nothing(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch = world.batches[0]
    before = table_counts(world.path)

    empty = tmp_path / "empty-value.csv"
    empty.write_text(f"batch,analyte,value\n{batch},viability,92\n{batch},vcn,\n")
    r = cli("-u", "operator", "release", "import", str(empty))
    assert r.code == 2
    assert f"file {empty}, field 'value': line 3: value is empty" in r.text

    unknown = export_csv(tmp_path / "unknown.csv", batch)
    unknown.write_text(unknown.read_text() + f"{batch},cd19_purity,80,%\n")
    r = cli("-u", "operator", "release", "import", str(unknown))
    assert r.code == 2
    assert f"file {unknown}, field 'analyte': line 13: 'cd19_purity' is not a test" in r.text

    r = cli("-u", "operator", "release", "enter", batch, "--analyte", "viabilty", "--value", "92")
    assert r.code == 2
    assert "one of: " + ", ".join(RELEASE) in r.text
    r = cli("-u", "operator", "release", "enter", "HUB-A-NOPE", "--analyte", "vcn", "--value", "1")
    assert r.code == 2 and "no batch 'HUB-A-NOPE'" in r.text
    r = cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "0", "--volume-ml", "68")
    assert r.code == 2 and "0 kg is not a possible body weight" in r.text
    r = cli(
        "-u", "qc-analyst", "release", "review", batch, "--password-stdin", stdin=f"{PASSWORD}\n"
    )
    assert r.code == 1 and "no results to review" in r.text

    assert table_counts(world.path) == before


# ---------------------------------------------------------------- spec evaluate


def test_spec_evaluate_exits_0_on_pass_and_1_on_fail(cli: Cli, tmp_path: Path) -> None:
    def results(**changes: str) -> Path:
        path = tmp_path / "results.csv"
        lines = ["analyte,value,unit"]
        lines += [f"{a},{changes.get(a, v)},{u}" for a, (v, u) in RELEASE.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    context = ("--weight-kg", "20", "--dose-volume-ml", "68")
    r = ok(cli("spec", "evaluate", "anti-cd19-cart-release", str(results()), *context))
    assert "overall: PASS" in r.text

    r = cli("spec", "evaluate", "anti-cd19-cart-release", str(results(vcn="6.2")), *context)
    assert r.code == 1 and "overall: FAIL" in r.text and VCN_OOS in r.text

    r = cli("spec", "evaluate", "anti-cd19-cart-release", str(results()), "--json")
    assert r.code == 1 and r.json()["outcome"] == "invalid"  # per-kg limits need the context


# ---------------------------------------------------------------- exit codes of partial work


def test_an_intake_import_with_undecided_donations_says_so_and_exits_1(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    good, pending, invalid = world.dins
    path = intake_csv(
        tmp_path / "intake.csv",
        [
            {"din": good},
            {"din": pending, "viability [%]": ""},  # not reported: pending
            {"din": invalid, "hbv": "see attached report"},  # cannot be read: invalid
        ],
    )
    before = table_counts(world.path)
    r = cli("-u", "qc-analyst", "intake", "import", str(path), "--json")
    assert r.code == 1, r.text
    assert "2 of 3 donation(s) not decided" in r.text
    assert f"{pending} (pending)" in r.text and f"{invalid} (invalid)" in r.text
    statuses = {d["din"]: d["status"] for d in r.json()["donations"]}
    assert statuses == {good: "accepted", pending: "registered", invalid: "registered"}
    # The evaluations are stored (the record of what was imported), the donations wait.
    assert table_counts(world.path)["evaluations"] == before["evaluations"] + 3


def test_a_release_import_with_pending_or_unreadable_values_says_so_and_exits_1(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch = world.batches[0]
    path = export_csv(
        tmp_path / "export.csv", batch, sterility_14d="in progress", mycoplasma="see LIMS"
    )
    r = cli("-u", "operator", "release", "import", str(path))
    assert r.code == 1, r.text
    assert "2 of 11 result(s) stored as pending or invalid" in r.text
    assert "line 10: sterility_14d: 'in progress' is pending" in r.text
    assert "line 11: mycoplasma: 'see LIMS' cannot be read as a result (invalid)" in r.text
    assert "11 result(s) entered" in r.text  # stored, as reported
    r = cli(
        *("-u", "operator", "release", "enter", batch, "--analyte", "rcl", "--value", "pending")
    )
    assert r.code == 1 and "rcl: 'pending' is pending" in r.text


def test_a_review_that_cannot_decide_the_lot_says_so_and_exits_1(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch = world.batches[0]
    results_in(cli, world, batch, tmp_path)  # no dose recorded: per-kg items undecidable
    before = table_counts(world.path)
    r = cli(
        "-u", "qc-analyst", "release", "review", batch, "--password-stdin", stdin=f"{PASSWORD}\n"
    )
    assert r.code == 1, r.text
    assert "its outcome is invalid" in r.text and "car_t_dose (invalid)" in r.text
    assert table_counts(world.path)["signatures"] == before["signatures"] + 1  # stored, signed
    ok(cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68"))
    ok(
        cli(
            "-u", "qc-analyst", "release", "review", batch, "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )
    )  # fmt: skip
