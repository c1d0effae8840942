"""Apheresis intake: a characterization file in, a decision on each donation, all or nothing."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from vein2vein.errors import (
    IdentityError,
    InvalidInputError,
    PermissionDeniedError,
    RecordConflictError,
    Vein2veinError,
)
from vein2vein.identity import check_character, parse_din, start_batch
from vein2vein.intake import import_intake, read_characterizations
from vein2vein.records import (
    AuditEntry,
    Deviation,
    Donation,
    DonationStatus,
    Evaluation,
)
from vein2vein.specs import Result, shipped_spec
from vein2vein.testing import Network, make_donation

SPEC = shipped_spec("apheresis-intake")
SPEC_SHA256 = hashlib.sha256(
    files("vein2vein.specs.data").joinpath("apheresis-intake.yaml").read_bytes()
).hexdigest()

#: A passing characterization, column by column (units in brackets where they apply).
PASSING: dict[str, str] = {
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
COLUMNS = ["din", *PASSING, "accept_with_deviation"]
JUSTIFICATION = "no further apheresis possible (platelets 18e9/L); treating physician requests"
CD3_LOW = "CD3+ T cells (count) 0.45 × 10⁹ cells < 0.6 × 10⁹ cells"
STARTED = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)


def row(din: str, justification: str = "", **changes: str) -> dict[str, str]:
    """A characterization row: the passing values with ``changes`` (column -> value)."""
    values = {"din": din, **PASSING, "accept_with_deviation": justification}
    for column, value in changes.items():
        assert column in values, column
        values[column] = value
    return values


def write_csv(path: Path, rows: list[Mapping[str, str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, rows: list[Mapping[str, str]]) -> Path:
    """One object per donation; numeric values as JSON numbers, blanks left out."""

    def value(text: str) -> Any:
        try:
            return json.loads(text)  # 72 -> 72, 0.45 -> 0.45
        except ValueError:
            return text

    data = [{k: value(v) for k, v in r.items() if v != ""} for r in rows]
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def write(path: Path, rows: list[Mapping[str, str]]) -> Path:
    return write_json(path, rows) if path.suffix == ".json" else write_csv(path, rows)


def snapshot(net: Network) -> dict[str, Any]:
    """What an import could write: evaluations, deviations, audit entries, statuses."""
    with net.db.read() as s:

        def count(model: Any) -> int:
            return s.execute(select(func.count()).select_from(model)).scalar_one()

        return {
            "evaluations": count(Evaluation),
            "deviations": count(Deviation),
            "audit_entries": count(AuditEntry),
            "statuses": dict(s.execute(select(Donation.din, Donation.status)).all()),
        }


def run_import(net: Network, path: Path, role: str = "qc_analyst") -> list[Any]:
    with net.db.unit_of_work(net.actor(role)) as uow:
        return import_intake(uow, path, SPEC)


# ---------------------------------------------------------------- decisions


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_each_donation_is_decided_recorded_and_audited(
    network: Network, tmp_path: Path, suffix: str
) -> None:
    good, bad, waived, open_ = (make_donation(network).din for _ in range(4))
    keyed_good = parse_din(good).eye_readable  # as on the label, with its check character
    path = write(
        tmp_path / f"characterization{suffix}",
        [
            row(keyed_good),
            row(bad, **{"cd3_count [10^9 cells]": "0.45", "viability [%]": "72"}),
            row(waived, JUSTIFICATION, **{"cd3_count [10^9 cells]": "0.45"}),
            row(open_, syphilis=""),  # not yet reported
        ],
    )

    outcomes = {o.din: o for o in run_import(network, path)}

    assert {din: o.status for din, o in outcomes.items()} == {
        good: DonationStatus.accepted,
        bad: DonationStatus.rejected,
        waived: DonationStatus.accepted_with_deviation,
        open_: DonationStatus.registered,
    }
    assert CD3_LOW in outcomes[bad].decision.reasons
    assert "viability 72 % < 80 %" in outcomes[bad].decision.reasons
    assert outcomes[waived].deviation == "DEV-000001"
    assert [o.deviation for din, o in outcomes.items() if din != waived] == [None] * 3

    with network.db.read() as s:
        donations = {d.din: d for d in s.scalars(select(Donation))}
        assert {din: d.status for din, d in donations.items()} == {
            din: o.status for din, o in outcomes.items()
        }
        (deviation,) = s.scalars(select(Deviation)).all()
        assert (deviation.code, deviation.category, deviation.severity, deviation.status) == (
            "DEV-000001",
            "starting_material",
            "major",
            "open",
        )
        assert deviation.donation_id == donations[waived].id
        assert JUSTIFICATION in deviation.description and CD3_LOW in deviation.description

        evaluations = {e.subject_id: e for e in s.scalars(select(Evaluation))}
        assert len(evaluations) == 4
        qc = network.actor("qc_analyst").user_id
        for din, outcome in outcomes.items():
            ev = evaluations[donations[din].id]
            assert ev.id == outcome.evaluation_id
            assert (ev.subject_table, ev.purpose, ev.evaluated_by_id) == ("donations", "intake", qc)
            assert (ev.spec_id, ev.spec_version, ev.spec_sha256) == (
                "apheresis-intake",
                "1.0",
                SPEC_SHA256,
            )
            assert ev.outcome == outcome.decision.outcome.value
            assert [i["analyte"] for i in ev.items] == [i.analyte for i in SPEC.items]
        items = {i["analyte"]: i for i in evaluations[donations[bad].id].items}
        assert items["cd3_count"]["outcome"] == "fail" and items["cd3_count"]["reason"] == CD3_LOW
        assert items["viability"]["outcome"] == "fail"
        assert {a for a, i in items.items() if i["outcome"] != "pass"} == {"cd3_count", "viability"}
        assert evaluations[donations[good].id].outcome == "pass"
        assert evaluations[donations[open_].id].outcome == "pending"

        changes = {
            e.record_id: e
            for e in s.scalars(
                select(AuditEntry).where(
                    AuditEntry.record_table == "donations", AuditEntry.action == "state_change"
                )
            )
        }
        assert set(changes) == {donations[d].id for d in (good, bad, waived)}  # not `open_`
        rejected = changes[donations[bad].id]
        assert rejected.changes["status"] == ["registered", "rejected"]
        assert rejected.username == "qc-analyst"
        assert rejected.reason is not None
        assert rejected.reason.startswith("intake (apheresis-intake v1.0): ")
        assert CD3_LOW in rejected.reason and "viability 72 % < 80 %" in rejected.reason
        assert changes[donations[good].id].reason == (
            "intake (apheresis-intake v1.0): meets the intake specification"
        )
        assert JUSTIFICATION in (changes[donations[waived].id].reason or "")

    # A rejected donation cannot start a batch; accepted ones can.
    with (
        pytest.raises(InvalidInputError, match="rejected at intake"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        start_batch(uow, din=bad, site="HUB-A", product="anti-CD19 CAR-T", started_at=STARTED)
    with network.db.unit_of_work(network.actor("operator")) as uow:
        for din in (good, waived):
            start_batch(uow, din=din, site="HUB-A", product="anti-CD19 CAR-T", started_at=STARTED)


def test_a_donation_is_decided_once_and_only_by_qc_or_qa(network: Network, tmp_path: Path) -> None:
    din = make_donation(network).din
    path = write_csv(tmp_path / "c.csv", [row(din)])
    before = snapshot(network)
    with pytest.raises(PermissionDeniedError, match=r"intake\.decide"):
        run_import(network, path, role="operator")
    assert snapshot(network) == before
    (outcome,) = run_import(network, path, role="qa_reviewer")
    assert outcome.status is DonationStatus.accepted
    after = snapshot(network)
    with pytest.raises(RecordConflictError, match="already decided"):
        run_import(network, path)
    assert snapshot(network) == after


# ---------------------------------------------------------------- malformed files


def _missing_din(tmp: Path, dins: list[str]) -> Path:
    columns = [c for c in COLUMNS if c != "din"]
    rows = [{k: v for k, v in row(d).items() if k != "din"} for d in dins]
    return write_csv(tmp / "c.csv", rows, columns)


def _unknown_column(tmp: Path, dins: list[str]) -> Path:
    rows = [{**row(d), "cd3_cnt [10^9 cells]": "1.5"} for d in dins]
    return write_csv(tmp / "c.csv", rows, [*COLUMNS, "cd3_cnt [10^9 cells]"])


def _bad_din(tmp: Path, dins: list[str]) -> Path:
    check = check_character(dins[1])
    wrong = f"{parse_din(dins[1]).eye_readable[:-1]}{'X' if check != 'X' else 'Y'}"
    return write_csv(tmp / "c.csv", [row(dins[0]), row(wrong)])


def _bad_din_json(tmp: Path, dins: list[str]) -> Path:
    return write_json(tmp / "c.json", [row(dins[0]), row(dins[1][:-1])])


def _duplicate(tmp: Path, dins: list[str]) -> Path:
    # The same DIN, keyed two ways.
    return write_csv(tmp / "c.csv", [row(dins[0]), row(parse_din(dins[0]).eye_readable)])


def _unregistered(tmp: Path, dins: list[str]) -> Path:
    stranger = dins[1][:-1] + ("9" if dins[1][-1] != "9" else "8")
    return write_csv(tmp / "c.csv", [row(dins[0]), row(stranger)])


def _invalid_json(tmp: Path, dins: list[str]) -> Path:
    path = tmp / "c.json"
    path.write_text(f'[\n  {{"din": "{dins[0]}",\n   "viability [%]": 95,,\n  }}\n]\n')
    return path


def _too_many_fields(tmp: Path, dins: list[str]) -> Path:
    # An unquoted decimal comma shifts every later value: refused, not misread.
    path = write_csv(tmp / "c.csv", [row(dins[0])])
    text = path.read_text(encoding="utf-8")
    path.write_text(text + f"{dins[1]},3,2,1.5,45,95,1.4,3,5,25,neg,neg,neg,neg,neg,\n")
    return path


def _already_decided(tmp: Path, dins: list[str]) -> Path:
    # Fails only while deciding the third row, after two donations were decided.
    return write_csv(tmp / "c.csv", [row(dins[0]), row(dins[1]), row(dins[2])])


MALFORMED = {
    "missing din column": (_missing_din, InvalidInputError, "din", "line 1: no 'din' column"),
    "unknown analyte column": (
        _unknown_column,
        InvalidInputError,
        "cd3_cnt [10^9 cells]",
        "line 1: column 'cd3_cnt [10^9 cells]' is not a test of apheresis-intake; one of: "
        "cd3_count, cd3_percent, cd4_cd8_ratio, granulocytes, hbv, hcv, hematocrit, "
        "hiv_1_2, htlv_1_2, monocytes, syphilis, tnc, viability",
    ),
    "bad DIN": (_bad_din, IdentityError, "din", "line 3: check character"),
    "bad DIN in JSON": (_bad_din_json, IdentityError, "din", "item 2: "),
    "duplicate DIN": (_duplicate, InvalidInputError, "din", "line 3: DIN {0} appears twice"),
    "unregistered DIN": (_unregistered, InvalidInputError, "din", "line 3: DIN "),
    "invalid JSON": (_invalid_json, InvalidInputError, None, "line 3: not valid JSON"),
    "too many fields": (
        _too_many_fields,
        InvalidInputError,
        None,
        "line 3: 16 fields, the header has 15",
    ),
    "already decided": (_already_decided, RecordConflictError, None, "already decided"),
}


IMPOSSIBLE = {
    "NaN": ("viability [%]", "nan", "'nan' is not a finite number"),
    "infinite": ("tnc [10^9 cells]", "inf", "'inf' is not a finite number"),
    "1e400 overflows": ("cd3_count [10^9 cells]", "1e400", "is not a finite number"),
    "viability 150 %": ("viability [%]", "150", "150 % is not a possible percent"),
    "negative count": ("cd3_count [10^9 cells]", "-0.5", "is not a possible amount"),
    "censored above 100 %": ("hematocrit [%]", ">150", "150 % is not a possible percent"),
}


@pytest.mark.parametrize("suffix", [".csv", ".json"])
@pytest.mark.parametrize("case", list(IMPOSSIBLE))
def test_a_number_that_cannot_be_is_refused_and_nothing_stored(
    network: Network, tmp_path: Path, case: str, suffix: str
) -> None:
    column, value, message = IMPOSSIBLE[case]
    dins = [make_donation(network).din for _ in range(2)]
    path = write(tmp_path / f"c{suffix}", [row(dins[0]), row(dins[1], **{column: value})])
    before = snapshot(network)

    with pytest.raises(InvalidInputError) as info:
        run_import(network, path)

    assert snapshot(network) == before
    assert (info.value.file, info.value.field) == (str(path), column)
    where = "item 2" if suffix == ".json" else "line 3"
    assert f"{where}: " in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_stores_nothing(network: Network, tmp_path: Path, case: str) -> None:
    make, error, field, message = MALFORMED[case]
    dins = [make_donation(network).din for _ in range(3)]
    if case == "already decided":
        run_import(network, write_csv(tmp_path / "first.csv", [row(dins[2])]))
    path = make(tmp_path, dins)
    before = snapshot(network)

    with pytest.raises(error) as info:
        run_import(network, path)

    assert snapshot(network) == before
    exc: Vein2veinError = info.value
    assert message.format(*dins) in str(exc)
    if isinstance(exc, InvalidInputError):
        assert exc.file == str(path)
        assert exc.field == field
        assert str(path) in str(exc)


# ---------------------------------------------------------------- reading


def test_reading_takes_units_from_brackets_and_skips_blanks(tmp_path: Path) -> None:
    din1, din2 = "A999926000001", "A999926000002"
    path = tmp_path / "c.csv"
    path.write_text(
        "DIN, cd3_percent [%],cd3_count [10^6 cells], cd4_cd8_ratio ,Accept_With_Deviation,notes\n"
        f"{din1},45,450,1.4,,first\n"
        "\n"  # a blank line: line numbers still count it
        f"{din2},,,2.0, physician request ,\n",
        encoding="utf-8",
    )
    first, second = read_characterizations(path, SPEC)
    assert first.din == din1 and first.line == 2
    assert first.results == (
        Result("cd3_percent", "45", "%"),
        Result("cd3_count", "450", "10^6 cells"),
        Result("cd4_cd8_ratio", "1.4", None),
    )
    assert first.accept_with_deviation is None
    assert second.line == 4
    assert second.results == (Result("cd4_cd8_ratio", "2.0", None),)
    assert second.accept_with_deviation == "physician request"


def test_the_unit_in_brackets_is_the_one_judged(network: Network, tmp_path: Path) -> None:
    din = make_donation(network).din
    values = {
        ("cd3_count [10^6 cells]" if k.startswith("cd3_count") else k): v
        for k, v in row(din).items()
    }
    values["cd3_count [10^6 cells]"] = "450"
    path = write_csv(tmp_path / "c.csv", [values], list(values))
    (outcome,) = run_import(network, path)
    assert outcome.status is DonationStatus.rejected
    assert "CD3+ T cells (count) 450 × 10⁶ cells (= 0.45 × 10⁹ cells) < 0.6 × 10⁹ cells" in (
        outcome.decision.reasons
    )


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [])
    with pytest.raises(InvalidInputError, match="no donations") as info:
        read_characterizations(path, SPEC)
    assert info.value.file == str(path)
    path = tmp_path / "c.json"
    path.write_text('{"din": "A999926000001"}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="JSON list of objects"):
        read_characterizations(path, SPEC)
