"""``vein2vein intake`` and ``vein2vein release``, run in-process against a real SQLite file."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from vein2vein.cli.sessions import CliSessions
from vein2vein.records import Database
from vein2vein.specs import shipped_spec
from vein2vein.testing import (
    PASSWORD,
    Cli,
    assert_ok,
    make_batch,
    make_donation,
    make_network,
)

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
def world(
    template: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions
) -> World:
    """A fresh copy of the world, used by the CLI through VEIN2VEIN_DATABASE_URL.

    Every user is logged in: ``-u NAME`` acts with NAME's session.
    """
    path = tmp_path / "v2v.db"
    with closing(sqlite3.connect(template.path)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
    cli_sessions(f"sqlite:///{path}")
    return World(path, template.dins, template.batches)


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
    r = assert_ok(cli("-u", "qc-analyst", "intake", "import", str(path)))
    assert "intake against apheresis-intake" in r.text
    assert good in r.text and bad in r.text
    assert "accepted" in r.text and "rejected" in r.text

    data = tmp_path / "intake.json"
    row = {**INTAKE, "din": waived, "cd3_count [10^9 cells]": "0.45"}
    data.write_text(
        json.dumps([{**row, "accept_with_deviation": "no further apheresis possible"}]),
        encoding="utf-8",
    )
    payload = assert_ok(cli("-u", "qc-analyst", "intake", "import", str(data), "--json")).json()
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
    decided = query(
        world.path,
        "SELECT spec_sha256 FROM evaluations WHERE subject_table = 'donations' AND subject_id "
        "IN (SELECT id FROM donations WHERE din IN (?, ?, ?))",
        *world.dins,
    )
    assert decided == [(INTAKE_SPEC.sha256,)] * 3


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

    r = assert_ok(
        cli(
            *("-u", "operator", "release", "enter", batch),
            *("--analyte", "sterility_14d", "--value", "no growth", "--method", "USP <71>"),
        )
    )
    assert "1 result(s) entered" in r.text
    r = assert_ok(
        cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68")
    )
    assert f"{batch}: patient 20 kg, dose volume 68 mL" in r.text

    review = assert_ok(
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

    r = assert_ok(
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
    r = assert_ok(cli("release", "coa", batch, "--out", str(out)))
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
    r = assert_ok(
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
    assert_ok(
        cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68")
    )

    decide = ("release", "decide", batch, "--password-stdin", "--disposition")
    before = table_counts(world.path)
    r = cli("-u", "qa-reviewer", *decide, "released", stdin=f"{PASSWORD}\n")
    assert r.code == 1, r.text
    assert f"{batch} cannot be released" in r.text
    assert "the results have not been reviewed against the specification" in r.text
    assert table_counts(world.path) == before

    assert_ok(
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
    after = table_counts(world.path)
    # Only the failed password attempt is written: an access event and the user's count.
    assert after.pop("access_events") == before.pop("access_events") + 1
    assert after.pop("audit_entries") == before.pop("audit_entries") + 2
    assert after.pop("audit_checkpoints") == before.pop("audit_checkpoints") + 1  # its seal
    assert after == before
    assert batch_status(world, batch) == "quarantine"

    r = assert_ok(
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
    assert f"file {empty}, field 'value': line 3, column 'value': empty" in r.text

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
    r = assert_ok(cli("spec", "evaluate", "anti-cd19-cart-release", str(results()), *context))
    assert "overall: PASS" in r.text

    r = cli("spec", "evaluate", "anti-cd19-cart-release", str(results(vcn="6.2")), *context)
    assert r.code == 1 and "overall: FAIL" in r.text and VCN_OOS in r.text

    r = cli("spec", "evaluate", "anti-cd19-cart-release", str(results()), "--json")
    assert r.code == 1 and r.json()["outcome"] == "invalid"  # per-kg limits need the context


# ---------------------------------------------------------------- problems, assessments


def review_and_dose(cli: Cli, batch: str) -> None:
    assert_ok(
        cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68")
    )
    assert_ok(
        cli(
            *("-u", "qc-analyst", "release", "review", batch, "--password-stdin"),
            stdin=f"{PASSWORD}\n",
        )
    )


def test_an_open_oos_blocks_release_until_qa_closes_it(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch = world.batches[1]
    assert results_in(cli, world, batch, tmp_path, vcn="9.0")["investigations"] == ["OOS-000001"]
    assert_ok(
        cli(
            *("-u", "operator", "release", "enter", batch, "--analyte", "vcn"),
            *("--value", "1.8", "--unit", "copies/cell"),
        )
    )  # the VCN re-imported as 1.8: the review passes
    review_and_dose(cli, batch)
    decide = ("-u", "qa-reviewer", "release", "decide", batch, "--password-stdin")

    listed = cli("release", "problems", batch, "--json")
    assert listed.code == 1, listed.text
    [oos] = listed.json()["problems"]
    assert (oos["code"], oos["kind"], oos["status"]) == ("OOS-000001", "investigation", "open")
    assert "close the investigation" in oos["blocks_release"]
    before = table_counts(world.path)
    r = cli(*decide, "--disposition", "released", stdin=f"{PASSWORD}\n")
    assert r.code == 1 and "OOS investigation OOS-000001 (vcn) is open" in r.text
    assert table_counts(world.path) == before

    close = ("-u", "qa-reviewer", "investigation", "close", "OOS-000001", "--password-stdin")
    r = cli(*close, "--outcome", "maybe", "--conclusion", "x", stdin=f"{PASSWORD}\n")
    assert r.code == 2 and "field 'outcome'" in r.text
    r = cli(
        *("-u", "qc-analyst", "investigation", "close", "OOS-000001", "--password-stdin"),
        *("--outcome", "invalidated", "--conclusion", "x"),
        stdin=f"{PASSWORD}\n",
    )
    assert r.code == 3 and "may not investigation.close" in r.text
    closed = assert_ok(
        cli(
            *close,
            *("--outcome", "invalidated", "--conclusion", "ddPCR plate mis-loaded", "--json"),
            stdin=f"{PASSWORD}\n",
        )
    ).json()
    assert (closed["status"], closed["outcome"]) == ("closed", "invalidated")
    assert query(world.path, "SELECT status FROM assay_results WHERE value = 9.0") == [
        ("invalidated",)
    ]
    assert assert_ok(cli("investigation", "list", "--status", "closed", "--json")).json()[0][
        "code"
    ] == ("OOS-000001")
    assert assert_ok(cli("release", "problems", batch)).code == 0
    assert_ok(cli(*decide, "--disposition", "released", stdin=f"{PASSWORD}\n"))
    assert batch_status(world, batch) == "released"


def test_qa_assesses_a_deviation_for_a_lot_and_links_it_to_another(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch, other = world.batches
    scan = cli(
        *("-u", "operator", "custody", "log", batch, "--from", "HUB-A", "--to", "courier"),
        *("--scan", world.dins[0], "--at", "2026-01-06T09:00:00Z"),
    )
    assert scan.code == 1 and "DEV-000001" in scan.text
    results_in(cli, world, batch, tmp_path)
    review_and_dose(cli, batch)
    decide = ("-u", "qa-reviewer", "release", "decide", batch, "--password-stdin")
    r = cli(*decide, "--disposition", "released", stdin=f"{PASSWORD}\n")
    assert r.code == 1
    assert "deviation DEV-000001 (critical, chain_of_identity) is open" in r.text

    assess = ("release", "assess", "DEV-000001", "--batch", batch, "--password-stdin")
    reason = ("--reason", "right bag verified by a second scan; both bags segregated")
    pw = f"{PASSWORD}\n"
    r = cli("-u", "qc-analyst", *assess, "--conclusion", "no-impact", *reason, stdin=pw)
    assert r.code == 3 and "may not problem.assess" in r.text
    r = cli("-u", "qa-reviewer", *assess, "--conclusion", "maybe", *reason, stdin=pw)
    assert r.code == 2 and "field 'conclusion'" in r.text
    qa = ("-u", "qa-reviewer", *assess)
    made = assert_ok(cli(*qa, "--conclusion", "no-impact", *reason, "--json", stdin=pw)).json()
    assert (made["conclusion"], made["problem"]) == ("no_impact", "DEV-000001")

    shown = assert_ok(cli("batch", "show", batch, "--json")).json()
    [problem] = shown["problems"]
    assert problem["assessment"]["conclusion"] == "no_impact"
    assert problem["assessment"]["valid"] is True
    assert "Quinn Reviewer (qa-reviewer)" in problem["assessment"]["signature"]
    assert problem["blocks_release"] is None
    assert "QA: no impact" in assert_ok(cli("batch", "show", batch)).text
    assert_ok(cli(*decide, "--disposition", "released", stdin=f"{PASSWORD}\n"))
    html = tmp_path / "coa.html"
    assert_ok(cli("release", "coa", batch, "--out", str(html)))
    assert "No impact on this lot" in html.read_text()

    link = ("-u", "qc-analyst", "release", "link", "DEV-000001", "--batch", other)
    r = cli(*link, "--via", "corridor")
    assert r.code == 2 and "field 'via'" in r.text
    linked = assert_ok(cli(*link, "--via", "material", "--detail", "bag rack 4", "--json")).json()
    assert (linked["via"], linked["detail"]) == ("material", "bag rack 4")
    listed = cli("release", "problems", other)
    assert listed.code == 1 and "through its material" in listed.text


def test_intake_correct_through_the_cli(world: World, cli: Cli, tmp_path: Path) -> None:
    din = world.dins[0]
    # A decimal slipped: 0.15 is a possible count, but below the 0.6 x 10^9 minimum.
    typo = intake_csv(tmp_path / "typo.csv", [{"din": din, "cd3_count [10^9 cells]": "0.15"}])
    assert_ok(cli("-u", "qc-analyst", "intake", "import", str(typo)))
    assert query(world.path, "SELECT status FROM donations WHERE din = ?", din) == [("rejected",)]
    fixed = intake_csv(tmp_path / "fixed.csv", [{"din": din}])
    again = cli("-u", "qc-analyst", "intake", "import", str(fixed))
    assert again.code == 2 and "already decided" in again.text and "intake correct" in again.text

    correct = ("-u", "qc-analyst", "intake", "correct", din, "--analyte", "cd3_count")
    before = table_counts(world.path)
    r = cli(*correct, "--value", "1.5", "--unit", "10^9 cells", "--reason", " ")
    assert r.code == 2 and "field 'reason'" in r.text
    assert table_counts(world.path) == before
    payload = assert_ok(
        cli(
            *correct,
            *("--value", "1.5", "--unit", "10^9 cells", "--json"),
            *("--reason", "decimal point typed one place left; flow report FC-0042 says 1.5"),
        )
    ).json()
    assert (payload["status"], payload["outcome"]) == ("accepted", "pass")
    assert query(world.path, "SELECT status FROM donations WHERE din = ?", din) == [("accepted",)]
    [(reason,)] = query(
        world.path,
        "SELECT reason FROM audit_entries WHERE record_table = 'donations' ORDER BY seq DESC "
        "LIMIT 1",
    )
    assert "flow report FC-0042" in reason


def test_review_prints_each_unit_once(world: World, cli: Cli, tmp_path: Path) -> None:
    batch = world.batches[0]
    results_in(cli, world, batch, tmp_path)
    assert_ok(
        cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68")
    )

    r = assert_ok(
        cli(
            *("-u", "qc-analyst", "release", "review", batch, "--password-stdin"),
            stdin=f"{PASSWORD}\n",
        )
    )

    assert "92 %" in r.text
    assert "1.8 copies/cell" in r.text
    assert "% %" not in r.text and "copies/cell copies/cell" not in r.text


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
    assert_ok(
        cli("-u", "qc-analyst", "release", "dose", batch, "--weight-kg", "20", "--volume-ml", "68")
    )
    assert_ok(
        cli(
            "-u", "qc-analyst", "release", "review", batch, "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )
    )  # fmt: skip
