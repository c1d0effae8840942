"""``vein2vein sc record``: a profile's numbers onto a batch, on a real SQLite file."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from vein2vein.cli import main
from vein2vein.cli.sessions import CliSessions
from vein2vein.records import Database
from vein2vein.singlecell.profile import ProductProfile, save_profile
from vein2vein.testing import make_batch, make_network

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sessions: CliSessions
) -> tuple[Path, str]:
    path = tmp_path / "v2v.db"
    db = Database(f"sqlite:///{path}")
    try:
        batch = make_batch(make_network(db)).batch_code
        cli_sessions(db)  # every user logged in: -u NAME acts with NAME's session
    finally:
        db.dispose()
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("VEIN2VEIN_USER", raising=False)
    monkeypatch.delenv("VEIN2VEIN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return path, batch


@pytest.fixture
def profile_file(tmp_path: Path) -> tuple[Path, ProductProfile]:
    profile = ProductProfile(
        sample="CAR-T10484037",
        patient="PT-0001",  # the patient of the world's batch (make_batch)
        timepoint="M0",  # the infusion product
        package_version="0",
        n_cells=326,
        car_positive_fraction=0.81,
        cd4_cd8_ratio=0.09,
        state_fractions={"effector_memory": 0.6, "exhausted": 0.4},
        diversity={"shannon": 4.1, "richness": 150.0},
    )
    return save_profile(profile, tmp_path / "CAR-T10484037.profile.json"), profile


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdin", io.StringIO(""))
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, _ANSI.sub("", out), " ".join(_ANSI.sub("", err).split())


def results(path: Path) -> list[tuple[str, float, str]]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(
            "SELECT analyte, value, method FROM assay_results WHERE analyte LIKE 'sc.%'"
        ).fetchall()


def test_record_stores_report_only_results_with_the_profile_hash(
    world: tuple[Path, str], profile_file: tuple[Path, ProductProfile], capsys: Any
) -> None:
    path, batch = world
    file, profile = profile_file
    code, out, err = run(
        capsys, "-u", "qc-analyst", "sc", "record", str(file), "--batch", batch, "--json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["batch"] == batch and payload["sample"] == "CAR-T10484037"
    stored = results(path)
    assert len(stored) == len(profile.metrics()) == len(payload["results"])
    by_analyte = {a: (v, m) for a, v, m in stored}
    assert by_analyte["sc.car_positive_fraction"][0] == pytest.approx(0.81)
    assert {m for _, m in by_analyte.values()} == {"scRNA-seq profile sha256:" + profile.sha256()}
    assert run(capsys, "audit", "verify")[0] == 0


def test_record_refusals_store_nothing(
    world: tuple[Path, str], profile_file: tuple[Path, ProductProfile], capsys: Any, tmp_path: Path
) -> None:
    path, batch = world
    file, _ = profile_file
    code, _, err = run(capsys, "-u", "qc-analyst", "sc", "record", str(file), "--batch", "NOPE")
    assert code == 2 and "NOPE" in err
    bad = tmp_path / "bad.profile.json"
    bad.write_text('{"sample": "S", "schema_version": 99}')
    code, _, err = run(capsys, "-u", "qc-analyst", "sc", "record", str(bad), "--batch", batch)
    assert code == 2 and "bad.profile.json" in err
    code, _, err = run(capsys, "sc", "record", str(file), "--batch", batch)
    assert code == 2 and "--user" in err
    code, _, err = run(capsys, "-u", "clinician", "sc", "record", str(file), "--batch", batch)
    assert code == 3, err  # a clinician does not enter release-lab results
    assert results(path) == []


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"patient": "PT-0002"}, "patient", "is of patient 'PT-0002', but batch"),
        ({"patient": None}, "patient", "names no patient"),
        ({"timepoint": "M3"}, "timepoint", "is of timepoint 'M3', not the product (M0)"),
        ({"timepoint": None}, "timepoint", "not the product (M0)"),
    ],
    ids=["another patient", "no patient", "post-infusion", "no timepoint"],
)
def test_a_profile_of_another_patient_or_timepoint_is_refused(
    world: tuple[Path, str],
    profile_file: tuple[Path, ProductProfile],
    capsys: Any,
    tmp_path: Path,
    changes: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    path, batch = world
    _, profile = profile_file
    other = save_profile(profile.model_copy(update=changes), tmp_path / "other.profile.json")
    code, _, err = run(capsys, "-u", "qc-analyst", "sc", "record", str(other), "--batch", batch)
    assert code == 2, err
    assert f"field '{field}'" in err and fragment in err
    assert results(path) == []
