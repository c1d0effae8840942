"""``clinical infuse``, ``clinical record-*`` and ``clinical outcomes`` on a real SQLite file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vein2vein.cli._clinical_records import PROGRESS_MIN_ROWS
from vein2vein.cli.sessions import CliSessions
from vein2vein.records import AssayResult, Batch, BatchStatus, Database, Disposition, Sample
from vein2vein.testing import Cli, CliResult, Network, assert_ok, make_batch, make_network

CRS_HEADER = (
    "patient_id,day,tocilizumab,steroids,temperature_c,hypotension,vasopressors,"
    "oxygen,oxygen_flow_l_min,fever_treated\n"
)
ICANS_HEADER = (
    "patient_id,day,tocilizumab,steroids,age_years,ice_score,consciousness,seizure,"
    "motor_weakness,cerebral_edema\n"
)
# Release results of the four lots (car_expression %, vcn copies/cell).
LOTS = ((22.0, 1.1), (31.0, 1.6), (38.0, 2.2), (45.0, 2.9))


@dataclass(frozen=True)
class World:
    path: Path
    lots: tuple[tuple[str, str], ...]  # (batch, patient), released, not infused


def _released_lot(net: Network, car: float, vcn: float) -> tuple[str, str]:
    batch = make_batch(net)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        sample = uow.add(
            Sample(
                sample_code=f"{batch.batch_code}-FP",
                batch_id=batch.id,
                stage="final_product",
                collected_at=batch.started_at + timedelta(days=9),
            )
        )
        for analyte, value, unit in (("car_expression", car, "%"), ("vcn", vcn, "copies/cell")):
            uow.add(
                AssayResult(
                    sample_id=sample.id,
                    analyte=analyte,
                    value_text=str(value),
                    value=value,
                    unit=unit,
                    entered_by_id=net.actor("operator").user_id,
                )
            )
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        lot = uow.get(Batch, batch.batch_code)
        uow.change(
            lot, status=BatchStatus.released, patient_weight_kg=70.0, reason="test: disposition"
        )
        uow.add(
            Disposition(
                batch_id=lot.id,
                disposition="released",
                decided_by_id=net.actor("qa_reviewer").user_id,
                decided_at=datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
            )
        )
        return lot.batch_code, lot.patient.patient_code


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    path = tmp_path_factory.mktemp("clinical-cli") / "template.db"
    db = Database(f"sqlite:///{path}")
    try:
        net = make_network(db)
        lots = tuple(_released_lot(net, car, vcn) for car, vcn in LOTS)
    finally:
        db.dispose()
    return World(path, lots)


@pytest.fixture
def world(
    template: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions
) -> World:
    path = tmp_path / "v2v.db"
    with closing(sqlite3.connect(template.path)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
    cli_sessions(f"sqlite:///{path}")  # every user logged in: -u NAME acts with NAME's session
    return World(path, template.lots)


def query(world: World, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(world.path)) as con:
        return con.execute(sql, params).fetchall()


def count(world: World, table: str) -> int:
    return int(query(world, f'SELECT count(*) FROM "{table}"')[0][0])


def infuse(
    cli: Cli, batch: str, *extra: str, user: str | None = "clinician", patient: str = ""
) -> CliResult:
    """``clinical infuse`` of ``batch`` into ``patient`` (by default its own, as shown)."""
    patient = patient or cli("batch", "show", batch, "--json").json()["patient"]
    result: CliResult = cli(
        *(["-u", user] if user else []),
        "clinical",
        "infuse",
        "--batch",
        batch,
        "--patient",
        patient,
        "--at",
        "2026-03-02T09:30:00+01:00",
        "--dose-cells",
        "1.4e8",
        "--indication",
        "LBCL",
        *extra,
    )
    return result


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- infuse


def test_infuse_records_the_infusion_with_its_audit_entry(world: World, cli: Cli) -> None:
    batch, patient = world.lots[0]
    audit_before = count(world, "audit_entries")
    payload = assert_ok(infuse(cli, batch, "--json")).json()
    assert payload["patient"] == patient and payload["batch"] == batch
    assert payload["dose_per_kg"] == pytest.approx(1.4e8 / 70)
    assert payload["infused_at"].startswith("2026-03-02T08:30:00")  # stored in UTC
    assert query(world, "SELECT status FROM batches WHERE batch_code = ?", batch) == [("infused",)]
    (row,) = query(world, "SELECT indication, dose_cells FROM infusions")
    assert row == ("LBCL", 1.4e8)
    # The infusion and the batch status change, both audited, by the clinician.
    actors = query(
        world,
        "SELECT username, record_table FROM audit_entries WHERE seq > ?",
        audit_before,
    )
    assert {t for _, t in actors} >= {"infusions", "batches"}
    assert {u for u, _ in actors} == {"clinician"}
    assert assert_ok(cli("audit", "verify")).code == 0


def test_infuse_refusals(world: World, cli: Cli) -> None:
    batch, patient = world.lots[0]
    no_user = infuse(cli, batch, user=None)
    assert no_user.code == 2 and "--user" in no_user.text
    assert infuse(cli, batch, user="operator").code == 3  # not a clinician
    naive = cli(
        "-u", "clinician", "clinical", "infuse", "--batch", batch, "--patient", patient,
        "--at", "2026-03-02T09:30:00", "--dose-cells", "1e8", "--indication", "LBCL",
    )  # fmt: skip
    assert naive.code == 2 and "UTC offset" in naive.text
    _, other = world.lots[1]
    wrong = infuse(cli, batch, patient=other)
    assert wrong.code == 2 and "field 'patient'" in wrong.text
    assert f"was made for patient {patient}" in wrong.text
    early = cli(
        "-u", "clinician", "clinical", "infuse", "--batch", batch, "--patient", patient,
        "--at", "2026-01-31T09:30:00Z", "--dose-cells", "1e8", "--indication", "LBCL",
    )  # fmt: skip
    assert early.code == 2 and "field 'infused_at'" in early.text and "released" in early.text
    assert count(world, "infusions") == 0
    assert_ok(infuse(cli, batch))
    twice = infuse(cli, batch)
    assert twice.code == 2 and "infused" in twice.text
    assert count(world, "infusions") == 1


# ---------------------------------------------------------------- toxicity


def test_record_toxicity_stores_each_graded_row(world: World, cli: Cli, tmp_path: Path) -> None:
    (b1, p1), (b2, p2) = world.lots[:2]
    assert_ok(infuse(cli, b1))
    assert_ok(infuse(cli, b2))
    path = write(
        tmp_path,
        "crs.csv",
        CRS_HEADER
        + f"{p1},1,false,false,38.4,no,,none,,no\n"  # grade 1
        + f"{p1},2,true,false,39.1,yes,,nasal_cannula,4,no\n"  # grade 2
        + f"{p1},3,false,false,37.2,yes,norepinephrine,nasal_cannula,6.5,yes\n"  # grade 3
        + f"{p2},1,false,false,37.0,no,,none,,no\n",
    )
    payload = assert_ok(
        cli("-u", "clinician", "clinical", "record-toxicity", str(path), "--kind", "crs", "--json")
    ).json()
    assert payload["stored"] == 4
    assert payload["patients"] == {p1: 3, p2: 1}
    assert payload["max_grade"] == {p1: 3, p2: 0}
    rows = query(world, "SELECT day, grade, tocilizumab FROM toxicity_assessments ORDER BY id")
    assert rows == [(1, 1, 0), (2, 2, 1), (3, 3, 0), (1, 0, 0)]
    audited = query(
        world, "SELECT count(*) FROM audit_entries WHERE record_table = 'toxicity_assessments'"
    )
    assert audited == [(4,)]

    icans = write(
        tmp_path,
        "icans.csv",
        ICANS_HEADER
        + f"{p1},4,false,true,45,5,awake,none,none,none\n"  # ICE 3-6: grade 2
        + f"{p1},5,false,true,45,0,unarousable,none,none,none\n",  # grade 4
    )
    table = assert_ok(
        cli("-u", "clinician", "clinical", "record-toxicity", str(icans), "--kind", "icans")
    )
    assert "2 icans row(s) stored" in table.text
    assert query(world, "SELECT grade FROM toxicity_assessments WHERE kind = 'icans'") == [
        (2,),
        (4,),
    ]


@pytest.mark.parametrize(
    ("row", "field", "line"),
    [
        ("{p},2,false,false,101.3,no,,none,,no\n", "temperature_c", 3),  # Fahrenheit
        ("{p},2,false,false,38.4,no,,helmet,,no\n", "oxygen", 3),
        ("{p},2026-03-04,false,false,38.4,no,,none,,no\n", "day", 3),  # a date, not a day
        ("{p},1,false,false,38.4,no,,none,,no\n", "day", 3),  # day 1 twice
        ("PT-NOBODY,2,false,false,38.4,no,,none,,no\n", "patient_id", 3),
    ],
)
def test_record_toxicity_is_all_or_nothing(
    world: World, cli: Cli, tmp_path: Path, row: str, field: str, line: int
) -> None:
    batch, patient = world.lots[0]
    assert_ok(infuse(cli, batch))
    path = write(
        tmp_path,
        "bad.csv",
        CRS_HEADER + f"{patient},1,false,false,38.4,no,,none,,no\n" + row.format(p=patient),
    )
    audit_before = count(world, "audit_entries")
    result = cli("-u", "clinician", "clinical", "record-toxicity", str(path), "--kind", "crs")
    assert result.code == 2
    assert "bad.csv" in result.text and f"line {line}" in result.text
    assert f"'{field}'" in result.text
    assert count(world, "toxicity_assessments") == 0
    assert count(world, "audit_entries") == audit_before


def test_record_toxicity_for_a_patient_not_infused(world: World, cli: Cli, tmp_path: Path) -> None:
    _, patient = world.lots[3]
    path = write(tmp_path, "crs.csv", CRS_HEADER + f"{patient},1,false,false,38.4,no,,none,,no\n")
    result = cli("-u", "clinician", "clinical", "record-toxicity", str(path), "--kind", "crs")
    assert result.code == 2
    assert "line 2" in result.text and "no recorded infusion" in result.text


def test_record_toxicity_twice_conflicts_and_stores_nothing_more(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    batch, patient = world.lots[0]
    assert_ok(infuse(cli, batch))
    path = write(tmp_path, "crs.csv", CRS_HEADER + f"{patient},1,false,false,38.4,no,,none,,no\n")
    assert_ok(cli("-u", "clinician", "clinical", "record-toxicity", str(path), "--kind", "crs"))
    again = cli("-u", "clinician", "clinical", "record-toxicity", str(path), "--kind", "crs")
    assert again.code == 2 and "crs.csv" in again.text and "line 2" in again.text
    assert count(world, "toxicity_assessments") == 1


def test_a_long_file_shows_a_progress_bar(world: World, cli: Cli, tmp_path: Path) -> None:
    batch, patient = world.lots[0]
    assert_ok(infuse(cli, batch))
    n = PROGRESS_MIN_ROWS + 10
    rows = "".join(f"{patient},{d},false,false,37.0,no,,none,,no\n" for d in range(n))
    path = write(tmp_path, "long.csv", CRS_HEADER + rows)
    result = assert_ok(
        cli("-u", "clinician", "clinical", "record-toxicity", str(path), "--kind", "crs")
    )
    assert "crs assessments" in result.out  # the bar's label
    assert count(world, "toxicity_assessments") == n


# ---------------------------------------------------------------- response


def test_record_response_with_mrd(world: World, cli: Cli, tmp_path: Path) -> None:
    batch, patient = world.lots[0]
    assert_ok(infuse(cli, batch))
    path = write(
        tmp_path,
        "responses.csv",
        "patient_id,day,criteria,response,reason,mrd_result,mrd_sensitivity,mrd_method\n"
        f"{patient},28,imwg,vgpr,,negative,10^-5,ngs\n"
        f"{patient},90,imwg,sCR,normal FLC ratio,,,\n",
    )
    payload = assert_ok(
        cli("-u", "clinician", "clinical", "record-response", str(path), "--json")
    ).json()
    assert payload["stored"] == 2
    rows = query(
        world,
        "SELECT day, criteria, response, reason, mrd_result, mrd_sensitivity, mrd_method, "
        "assessed_on FROM response_assessments ORDER BY day",
    )
    assert rows[0][:7] == (28, "imwg", "VGPR", "", "negative", 1e-5, "ngs")
    assert rows[0][7].startswith("2026-03-30 08:30")  # infusion (UTC) + 28 days
    assert rows[1][:7] == (90, "imwg", "sCR", "normal FLC ratio", None, None, None)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("{p},28,lugano,VGPR,,,,\n", "response"),  # not a Lugano category
        ("{p},28,recist,PR,,,,\n", "criteria"),
        ("{p},28,imwg,CR,,negative,,ngs\n", "mrd_sensitivity"),  # MRD without sensitivity
        ("{p},28,imwg,CR,,negative,10^-3,ngs\n", "mrd_sensitivity"),
        ("{p},-3,lugano,PR,,,,\n", "day"),
    ],
)
def test_record_response_refusals_store_nothing(
    world: World, cli: Cli, tmp_path: Path, row: str, field: str
) -> None:
    batch, patient = world.lots[0]
    assert_ok(infuse(cli, batch))
    path = write(
        tmp_path,
        "responses.csv",
        "patient_id,day,criteria,response,reason,mrd_result,mrd_sensitivity,mrd_method\n"
        f"{patient},14,lugano,PR,,,,\n" + row.format(p=patient),
    )
    result = cli("-u", "clinician", "clinical", "record-response", str(path))
    assert result.code == 2, result.text
    assert "responses.csv" in result.text and "line 3" in result.text and field in result.text
    assert count(world, "response_assessments") == 0


# ---------------------------------------------------------------- kinetics


def test_record_kinetics_flags_and_groups(world: World, cli: Cli, tmp_path: Path) -> None:
    (b1, p1), (b2, p2) = world.lots[:2]
    assert_ok(infuse(cli, b1))
    assert_ok(infuse(cli, b2))
    path = write(
        tmp_path,
        "pk.csv",
        "patient_id,day,value,method,unit,below_lloq,lloq\n"
        f"{p1},0,0,qpcr,copies/ug,,\n"
        f"{p1},7,12000,qpcr,copies/ug,false,\n"
        f"{p1},28,40,qpcr,copies/ug,,\n"  # below --lloq 50
        f"{p1},7,35,flow,cells/uL,,1\n"  # the row's own LLOQ (cells/uL)
        f"{p1},14,0.5,flow,cells/uL,,1\n"
        f"{p2},7,900,qPCR,copies/ug,true,\n",  # the laboratory's flag
    )
    payload = assert_ok(
        cli("-u", "clinician", "clinical", "record-kinetics", str(path), "--lloq", "50", "--json")
    ).json()
    assert payload["patients"] == {p1: 5, p2: 1}
    rows = query(
        world, "SELECT day, value, method, unit, below_lloq FROM kinetics_samples ORDER BY id"
    )
    assert rows == [
        (0.0, 0.0, "qpcr", "copies/ug", 1),
        (7.0, 12000.0, "qpcr", "copies/ug", 0),
        (28.0, 40.0, "qpcr", "copies/ug", 1),
        (7.0, 35.0, "flow", "cells/uL", 0),
        (14.0, 0.5, "flow", "cells/uL", 1),
        (7.0, 900.0, "qpcr", "copies/ug", 1),
    ]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("{p},7,12,qpcr,copies/ug\n", "day"),  # day 7 twice for qpcr
        ("{p},14,12,qpcr,cells/uL\n", "unit"),  # second unit
        ("{p},14,-5,qpcr,copies/ug\n", "value"),
        ("{p},14,abc,qpcr,copies/ug\n", "value"),
    ],
)
def test_record_kinetics_refusals_store_nothing(
    world: World, cli: Cli, tmp_path: Path, row: str, field: str
) -> None:
    batch, patient = world.lots[0]
    assert_ok(infuse(cli, batch))
    path = write(
        tmp_path,
        "pk.csv",
        f"patient_id,day,value,method,unit\n{patient},7,100,qpcr,copies/ug\n"
        + row.format(p=patient),
    )
    result = cli("-u", "clinician", "clinical", "record-kinetics", str(path))
    assert result.code == 2, result.text
    assert "pk.csv" in result.text and "line 3" in result.text and f"'{field}'" in result.text
    assert count(world, "kinetics_samples") == 0


# ---------------------------------------------------------------- outcomes from the database


def test_outcomes_from_the_database(world: World, cli: Cli, tmp_path: Path) -> None:
    responses = ["patient_id,day,criteria,response"]
    kinetics = ["patient_id,day,value,method,unit"]
    for (batch, patient), best in zip(world.lots, ("SD", "PD", "CR", "PR"), strict=True):
        assert_ok(infuse(cli, batch))
        responses.append(f"{patient},28,lugano,{best}")
        if best != "PD":
            responses.append(f"{patient},90,lugano,{'PD' if best == 'SD' else best}")
        kinetics += [f"{patient},{d},{v},qpcr,copies/ug" for d, v in ((0, 0), (7, 9000), (28, 400))]
    assert_ok(cli("-u", "clinician", "clinical", "record-response",
           str(write(tmp_path, "r.csv", "\n".join(responses) + "\n"))))  # fmt: skip
    assert_ok(cli("-u", "clinician", "clinical", "record-kinetics",
           str(write(tmp_path, "k.csv", "\n".join(kinetics) + "\n"))))  # fmt: skip
    out = tmp_path / "report"
    table = tmp_path / "patients.csv"
    payload = assert_ok(
        cli("clinical", "outcomes", "--out", str(out), "--permutations", "19", "--table",
            str(table), "--json")
    ).json()  # fmt: skip
    # No --attribute: the numeric release attributes of the infused lots.
    assert payload["attributes"] == ["car_expression", "vcn"]
    assert payload["patients"] == 4
    html = (out / "outcomes-report.html").read_text()
    assert "patients in the system of record" in html
    frame = table.read_text().splitlines()
    assert frame[0].startswith("patient_id,batch,site,indication,dose_per_kg,car_expression,vcn")
    assert len(frame) == 5
    # Named attributes must exist.
    bad = cli("clinical", "outcomes", "--out", str(out), "--attribute", "nope")
    assert bad.code == 2 and "nope" in bad.text


def test_outcomes_from_an_empty_database_says_so(world: World, cli: Cli, tmp_path: Path) -> None:
    result = cli("clinical", "outcomes", "--out", str(tmp_path / "r"))
    assert result.code == 2 and "no infused patients" in result.text
