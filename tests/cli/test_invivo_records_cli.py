"""``invivo lot register|release`` and ``invivo dose`` on a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from vein2vein.cli.sessions import CliSessions
from vein2vein.records import AuditEntry, Database, InvivoDosing, InvivoLot, Signature
from vein2vein.testing import PASSWORD, CliResult, make_network

RESULTS = """analyte,value,unit
functional_titer,3.2e8,TU/mL
infectious_physical_ratio,0.012,
potency,27,%
particle_size,118,nm
endotoxin,<0.5,EU/mL
sterility,negative,
mycoplasma,not detected,
rcl,not detected,
"""


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions
) -> Iterator[Database]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    url = f"sqlite:///{tmp_path / 'records.db'}"
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", url)
    db = Database(url)
    make_network(db)
    cli_sessions(url)  # every user logged in: `-u NAME` acts with NAME's session
    yield db
    db.dispose()


def register_lot(cli: Callable[..., CliResult], lot: str = "LV-001") -> CliResult:
    return cli(
        *("-u", "operator", "invivo", "lot", "register", lot),
        *("--product", "anti-CD19 in vivo LV", "--platform", "lentiviral"),
        *("--titre", "3.2e8", "--titre-unit", "TU/mL", "--site", "HUB-A"),
        *("--manufactured-at", "2026-05-01T09:00:00Z", "--json"),
    )


def count(db: Database, model: type[Any]) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_lot_is_registered_released_and_doses_a_patient(
    world: Database, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    registered = register_lot(cli)
    assert registered.code == 0, registered.text
    assert registered.json() == {"lot": "LV-001", "platform": "lentiviral", "status": "quarantine"}

    results = tmp_path / "lot-results.csv"
    results.write_text(RESULTS, encoding="utf-8")
    released = cli(
        *("-u", "qa-reviewer", "invivo", "lot", "release", "LV-001", str(results)),
        "--password-stdin",
        "--json",
        stdin=f"{PASSWORD}\n",
    )
    assert released.code == 0, released.text
    assert (released.json()["status"], released.json()["outcome"]) == ("released", "pass")
    assert count(world, Signature) == 1

    assert cli("-u", "clinician", "patient", "add", "PT-IV1", "--site", "HUB-A").code == 0
    dosed = cli(
        *("-u", "clinician", "invivo", "dose", "PT-IV1", "--lot", "LV-001"),
        *("--dose", "1e7", "--dose-unit", "TU/kg", "--at", "2026-05-10T09:00:00Z"),
        *("--indication", "B-ALL", "--lymphodepletion", "--dose-level", "2"),
        *("--weight-kg", "61.5", "--json"),
    )
    assert dosed.code == 0, dosed.text
    assert {k: dosed.json()[k] for k in ("patient", "lot", "dose", "dose_unit")} == {
        "patient": "PT-IV1",
        "lot": "LV-001",
        "dose": 1e7,
        "dose_unit": "TU/kg",
    }
    with world.read() as s:
        (dosing,) = s.scalars(select(InvivoDosing)).all()
        assert (dosing.dose_level, dosing.weight_kg, dosing.lymphodepletion) == (2, 61.5, True)
        audited = s.scalars(
            select(AuditEntry.record_table).where(AuditEntry.record_table == "invivo_dosings")
        ).all()
    assert audited == ["invivo_dosings"]


def test_a_lot_failing_its_specification_is_rejected_with_exit_1(
    world: Database, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    assert register_lot(cli).code == 0
    results = tmp_path / "lot-results.csv"
    results.write_text(RESULTS.replace("sterility,negative", "sterility,positive"), "utf-8")

    rejected = cli(
        *("-u", "qa-reviewer", "invivo", "lot", "release", "LV-001", str(results)),
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )

    assert rejected.code == 1, rejected.text
    assert "rejected" in rejected.text
    with world.read() as s:
        assert s.scalars(select(InvivoLot.status)).one() == "rejected"


def test_a_lot_in_quarantine_cannot_dose(world: Database, cli: Callable[..., CliResult]) -> None:
    assert register_lot(cli).code == 0
    assert cli("-u", "clinician", "patient", "add", "PT-IV1", "--site", "HUB-A").code == 0
    before = count(world, AuditEntry)

    refused = cli(
        *("-u", "clinician", "invivo", "dose", "PT-IV1", "--lot", "LV-001"),
        *("--dose", "1e7", "--dose-unit", "TU/kg", "--at", "2026-05-10T09:00:00Z"),
        *("--indication", "B-ALL"),
    )

    assert refused.code == 2, refused.text
    assert "only a released lot may dose" in refused.text
    assert count(world, AuditEntry) == before


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [("--dose", "nan", "dose"), ("--dose", "-1", "dose"), ("--dose-unit", "mL", "dose_unit")],
)
def test_bad_dosing_input_names_the_field(
    world: Database, cli: Callable[..., CliResult], option: str, value: str, field: str
) -> None:
    args = {"--dose": "1e7", "--dose-unit": "TU/kg"} | {option: value}
    refused = cli(
        *("-u", "clinician", "invivo", "dose", "PT-NONE", "--lot", "LV-NONE"),
        *(x for pair in args.items() for x in pair),
        *("--at", "2026-05-10T09:00:00Z", "--indication", "B-ALL"),
    )
    assert refused.code == 2, refused.text
    assert field in refused.text
