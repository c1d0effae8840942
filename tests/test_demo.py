"""The demo (the main job end to end on synthetic data), through the API and the CLI.

Each demo run takes seconds, so the API run is shared by the tests of this module
and the CLI is run once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from vein2vein.cli import main
from vein2vein.demo import DemoSummary, run_demo
from vein2vein.records import (
    Batch,
    BatchStatus,
    CustodyEvent,
    Database,
    Deviation,
    Disposition,
    Donation,
    Infusion,
    Investigation,
    audit,
    signatures_of,
)
from vein2vein.release import current_results, lot_problems, problem_blocks
from vein2vein.simulate import SYNTHETIC_LABEL

N_DONATIONS = 36  # three sites, twelve donations each
N_REJECTED = 2  # at intake: poor viability, too few T cells
N_BATCHES = N_DONATIONS - N_REJECTED
CARPALL = Path(__file__).parents[1].parent / "shared" / "data" / "carpall"


@dataclass
class DemoRun:
    summary: DemoSummary
    out: Path
    url: str
    progress: list[tuple[str, int, int]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    root = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{root / 'demo.db'}"
    progress: list[tuple[str, int, int]] = []
    db = Database(url)
    try:
        summary = run_demo(
            db,
            root / "out",
            singlecell_data=CARPALL,
            progress=lambda stage, done, total: progress.append((stage, done, total)),
        )
    finally:
        db.dispose()
    return DemoRun(summary, root / "out", url, progress)


@pytest.fixture
def db(demo: DemoRun) -> Iterator[Database]:
    database = Database(demo.url)
    yield database
    database.dispose()


def test_demo_summary_counts(demo: DemoRun) -> None:
    s = demo.summary
    assert (s.sites, s.users) == (3, 7)  # admin, three operators, QC, QA, a clinician
    assert s.donations == N_DONATIONS
    assert s.intake == {"accepted": N_BATCHES - 1, "accepted_with_deviation": 1, "rejected": 2}
    assert s.batches == N_BATCHES
    # Two hand-offs per batch, plus the refused scan that was then repeated.
    assert s.custody_events == 2 * N_BATCHES + 1
    # QC reviews every donation; every lot has a signed review and a signed disposition,
    # and the lot released at risk is reviewed again and recalled after its sterility grew;
    # QA signs each deviation it closes, each impact assessment and each OOS closure.
    q = s.quality
    qa_signed = q["closed"] + q["assessed_no_impact"] + q["investigations_confirmed"]
    assert s.signatures == N_DONATIONS + 2 * N_BATCHES + 2 + 1 + qa_signed  # + in vivo lot
    assert s.dispositions == {"released": N_BATCHES - 2, "released_at_risk": 1, "rejected": 2}
    assert s.certificates == N_BATCHES


def test_demo_refuses_exactly_one_hand_off(demo: DemoRun) -> None:
    [refused] = demo.summary.refused_handoffs
    assert "does not match the batch DIN" in refused["reason"]
    assert refused["scanned"] in refused["reason"]


def test_demo_opens_its_deviations(demo: DemoRun) -> None:
    deviations = demo.summary.deviations
    assert [d["code"] for d in deviations] == [
        f"DEV-{i:06d}" for i in range(1, len(deviations) + 1)
    ]
    others = [d for d in deviations if d["category"] != "process_signal"]
    assert [(d["category"], d["severity"]) for d in others] == [
        ("starting_material", "major"),
        ("chain_of_identity", "critical"),
        ("temperature_excursion", "major"),
        ("post_release_oos", "critical"),
    ]
    assert "justification" in others[0]["description"]
    assert "11.4 °C is outside the refrigerated range" in others[2]["description"]
    assert "released at risk" in others[3]["description"]


def test_demo_releases_no_lot_past_an_open_problem(demo: DemoRun, db: Database) -> None:
    """QA closes or assesses (e-signed, with a reason) what is open before it releases."""
    quality = demo.summary.quality
    assert quality["label"] == SYNTHETIC_LABEL
    assert quality["closed"] >= 4  # the wrong bag, the starting material, process signals
    assert quality["assessed_no_impact"] == 1  # the transit temperature excursion
    assert quality["investigations_confirmed"] == 1  # the OOS VCN
    with db.read() as session:
        released = {BatchStatus.released, BatchStatus.released_at_risk, BatchStatus.infused}
        for batch in session.scalars(select(Batch)):
            problems = lot_problems(session, batch)
            if batch.status in released:
                assert [problem_blocks(p) for p in problems if problem_blocks(p)] == []
            releases = session.scalars(
                select(Disposition.decided_at).where(
                    Disposition.batch_id == batch.id,
                    Disposition.disposition.in_(("released", "released_at_risk")),
                )
            ).all()
            for p in problems:
                if p.kind != "deviation" or p.status != "closed" or not releases:
                    continue
                # Every deviation of a released lot was closed before its release.
                row = session.scalars(select(Deviation).where(Deviation.code == p.code)).one()
                closing = [
                    e.recorded_at
                    for e in audit.history(session, "deviations", row.id)
                    if e.changes.get("status", [None, None])[1] == "closed"
                ]
                assert closing and closing[0] <= min(releases), p.code
        # The wrong-bag lot is released only after its critical deviation was closed.
        [wrong_bag] = session.scalars(
            select(Deviation).where(Deviation.category == "chain_of_identity")
        ).all()
        assert wrong_bag.status == "closed"
        # The lot whose VCN was out of specification is rejected on a confirmed OOS.
        vcn = session.scalars(select(Investigation).where(Investigation.analyte == "vcn")).one()
        assert (vcn.status, vcn.outcome) == ("closed", "confirmed")
        lot = session.get(Batch, vcn.batch_id)
        assert lot is not None and lot.status is BatchStatus.rejected
        # What stays open belongs to lots that were not infused, or was assessed for them.
        for item in quality["still_open"]:
            assert item["batch_status"] == "rejected" or item["assessment"] == "no_impact"
        # Every infusion came after its lot's release.
        for infusion in session.scalars(select(Infusion)):
            first = min(
                session.scalars(
                    select(Disposition.decided_at).where(
                        Disposition.batch_id == infusion.batch_id,
                        Disposition.disposition.in_(("released", "released_at_risk")),
                    )
                )
            )
            assert infusion.infused_at >= first


def test_demo_process_monitoring_catches_every_injected_fault(demo: DemoRun) -> None:
    process = demo.summary.process
    assert process["label"] == SYNTHETIC_LABEL
    assert process["readings"] > 50_000
    watched = {"ph_drift": "ph", "do_excursion": "dissolved_oxygen", "temp_step": "temperature"}
    flagged = {(d["batch"], d["parameter"]) for d in process["spc_deviations"]}
    for batch, fault in process["faults_injected"].items():
        assert (batch, watched[fault]) in flagged, (batch, fault)
    # Limits sized for a 1 % false-alarm chance per clean batch: few false alarms.
    false_alarms = {b for b, _ in flagged} - set(process["faults_injected"])
    assert len(false_alarms) <= 3
    alarms = {a["batch"]: a["top_contributors"] for a in process["mspc"]["alarms"]}
    assert set(alarms) == set(process["faults_injected"])
    for batch, fault in process["faults_injected"].items():
        assert alarms[batch][0].startswith(watched[fault])
    charts = sorted(p.name for p in (demo.out / "process" / "charts").glob("*.png"))
    assert len(charts) == 2 * len(process["faults_injected"])


def test_demo_follows_up_infused_patients(demo: DemoRun) -> None:
    clinical = demo.summary.clinical
    assert clinical["label"] == SYNTHETIC_LABEL
    # Every lot released (or released at risk and not recalled) is infused.
    assert clinical["patients"] == N_BATCHES - 2
    assert 0 < clinical["responders"] < clinical["patients"]
    report = Path(clinical["report"])
    assert report.is_file() and "<img" in report.read_text()
    table = (demo.out / "clinical" / "patients.csv").read_text().splitlines()
    assert len(table) == clinical["patients"] + 1


def test_demo_runs_an_invivo_program(demo: DemoRun) -> None:
    invivo = demo.summary.invivo
    assert invivo["label"] == SYNTHETIC_LABEL
    cohorts = invivo["sequence"].split()
    assert cohorts[0].startswith("1")  # BOIN12 starts at the lowest dose
    assert invivo["patients"] == sum(len(c) - 1 for c in cohorts)
    report = Path(invivo["report"]["report"])
    html = report.read_text()
    assert "<img" in html and SYNTHETIC_LABEL in html
    assert "error" not in invivo["report"]["sliding_scale"], invivo["report"]["sliding_scale"]
    # the OBD BOIN12 selects is a tried dose, marked on the sliding-scale chart
    obd = invivo["obd"]
    assert obd is not None and any(c.startswith(str(obd)) for c in cohorts)
    marked = invivo["report"]["recommendations"]
    assert [m["design"] for m in marked] == ["BOIN12 OBD"]
    assert marked[0]["dose"] in invivo["report"]["dose_levels"]
    assert "BOIN12 OBD at" in html


def test_demo_profiles_real_carpall_samples(demo: DemoRun) -> None:
    if not CARPALL.is_dir():
        pytest.skip(f"shared data folder missing: {CARPALL}")
    singlecell = demo.summary.singlecell
    assert "real data" in singlecell["label"]
    by_sort: dict[str, list[float]] = {}
    for sample in singlecell["samples"]:
        assert Path(sample["report"]).is_file()
        profile = json.loads(Path(sample["profile"]).read_text())
        assert profile["sample"] == sample["sample"]
        by_sort.setdefault(sample["sort"], []).append(sample["car_positive_fraction"])
    assert min(by_sort["CD3+CAT+"]) > max(by_sort["NoSo"])
    fractions = [row["fraction_in_product_clones"] for row in singlecell["tracking"]]
    assert fractions and all(0 <= f <= 1 for f in fractions)
    assert "REAL CARPALL" in (demo.out / "README.txt").read_text()


def test_demo_records_a_synthetic_single_cell_profile_on_a_released_lot(
    demo: DemoRun, db: Database
) -> None:
    recorded = demo.summary.singlecell["recorded"]
    assert recorded["label"] == SYNTHETIC_LABEL
    profile = json.loads(Path(recorded["profile"]).read_text())
    assert profile["provenance"] == SYNTHETIC_LABEL
    assert SYNTHETIC_LABEL in Path(recorded["report"]).read_text()
    with db.read() as session:
        batch = session.scalars(select(Batch).where(Batch.batch_code == recorded["batch"])).one()
        # report-only: the disposition stands
        assert batch.status in {BatchStatus.released, BatchStatus.infused}
        rows = [r for r in current_results(session, batch) if r.analyte.startswith("sc.")]
    assert len(rows) == recorded["n_results"] > 10
    car = next(r for r in rows if r.analyte == "sc.car_positive_fraction")
    assert car.value == pytest.approx(recorded["car_positive_fraction"], rel=1e-5)


def test_demo_compares_two_hubs(demo: DemoRun) -> None:
    comparability = demo.summary.comparability
    report = Path(comparability["report"])
    assert report.is_file()
    html = report.read_text()
    assert set(comparability["conclusions"]) == {
        "viability",
        "car_expression",
        "vcn",
        "ifng_release",
        "car_t_dose",
    }
    for sentence in comparability["conclusions"].values():
        assert "HUB-B" in sentence and "HUB-A" in sentence
    assert "<img" in html and SYNTHETIC_LABEL in html


def test_demo_release_outcomes(demo: DemoRun) -> None:
    # The VCN out of specification at entry, and the day-14 sterility growth.
    assert len(demo.summary.investigations) == 2
    assert "vector copy number" in demo.summary.investigations[0]
    assert "sterility" in demo.summary.investigations[1].lower()
    [notice] = demo.summary.notifications
    assert notice.startswith("URGENT")
    pdfs = sorted((demo.out / "coa").glob("*.pdf"))
    assert len(pdfs) == N_BATCHES
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    header = (demo.out / "intake" / "apheresis-characterization.csv").read_text().splitlines()[0]
    assert header.startswith("din,")
    assert SYNTHETIC_LABEL in (demo.out / "README.txt").read_text()


def test_demo_invalidates_exactly_one_signature(demo: DemoRun) -> None:
    [invalid] = demo.summary.invalid_signatures
    assert "INVALID: record changed after signing" in invalid


def test_demo_audit_trail_verifies(demo: DemoRun) -> None:
    assert demo.summary.audit_ok is True
    assert demo.summary.audit_findings == []
    assert demo.summary.audit_entries > demo.summary.custody_events


def test_demo_summary_file_is_labelled_synthetic(demo: DemoRun) -> None:
    written = json.loads((demo.out / "summary.json").read_text())
    assert written["label"] == SYNTHETIC_LABEL
    assert written["label"].startswith("SYNTHETIC")
    assert written == json.loads(json.dumps(asdict(demo.summary)))


def test_demo_writes_one_labelled_record_per_batch(demo: DemoRun, db: Database) -> None:
    files = sorted((demo.out / "batch-records").glob("*.json"))
    with db.read() as session:
        codes = sorted(session.scalars(select(Batch.batch_code)))
    assert [f.stem for f in files] == codes
    assert len(files) == N_BATCHES
    refused = 0
    for f in files:
        record = json.loads(f.read_text())
        assert record["label"] == SYNTHETIC_LABEL
        assert record["batch_code"] == f.stem
        assert len(record["din"]) == 13
        events = record["custody"]
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        assert events[-1]["accepted"] is True
        assert events[-1]["to_party"] == record["custodian"]
        refused += sum(not e["accepted"] for e in events)
    assert refused == 1


def test_demo_database_holds_what_the_summary_says(demo: DemoRun, db: Database) -> None:
    with db.read() as session:
        report = audit.verify(session)
        assert report.ok, report.findings
        assert report.n_entries == demo.summary.audit_entries

        # Every batch ends with its manufacturing site, the refused one included.
        for batch in session.scalars(select(Batch)):
            assert batch.custodian == batch.site.code

        [refused] = session.scalars(select(CustodyEvent).where(CustodyEvent.accepted.is_(False)))
        deviation = session.get(Deviation, refused.deviation_id)
        assert deviation is not None
        assert deviation.category == "chain_of_identity"
        accepted = session.scalars(
            select(CustodyEvent.accepted)
            .where(CustodyEvent.batch_id == refused.batch_id)
            .order_by(CustodyEvent.id)
        ).all()
        assert accepted == [True, False, True]  # the right bag was scanned again

        invalid = [
            d
            for d in session.scalars(select(Donation))
            if not all(s.valid for s in signatures_of(session, d))
        ]
        [corrected] = invalid
        history = audit.history(session, "donations", corrected.id)
        assert history[-1].action == "update"
        assert set(history[-1].changes) == {"volume_ml"}
        assert "corrected" in (history[-1].reason or "")


def test_demo_reports_progress_to_completion(demo: DemoRun) -> None:
    last: dict[str, tuple[int, int]] = {}
    for stage, done, total in demo.progress:
        assert 1 <= done <= total
        last[stage] = (done, total)
    assert last["donations registered"] == (N_DONATIONS, N_DONATIONS)
    assert last["batch records written"] == (N_BATCHES, N_BATCHES)
    assert all(done == total for done, total in last.values())


def test_demo_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VEIN2VEIN_DATABASE_URL", raising=False)
    out = tmp_path / "out"
    (out / "batch-records").mkdir(parents=True)
    (out / "batch-records" / "STALE-0001.json").write_text("{}")
    (out / "notes.txt").write_text("not the demo's")

    assert main(["demo", "--out", str(out), "--json", "--donations-per-site", "4"]) == 0

    stdout = capsys.readouterr().out
    summary = json.loads(stdout)  # --json prints nothing but the JSON summary
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["label"] == SYNTHETIC_LABEL
    assert summary["audit_ok"] is True
    assert (summary["donations"], len(summary["refused_handoffs"])) == (12, 1)
    assert (out / "vein2vein-demo.db").is_file()
    assert len(list((out / "batch-records").glob("*.json"))) == summary["batches"] == 10
    assert len(list((out / "coa").glob("*.pdf"))) == 10
    # A rerun replaces the demo's own outputs and leaves everything else alone.
    assert not (out / "batch-records" / "STALE-0001.json").exists()
    assert (out / "notes.txt").read_text() == "not the demo's"


def test_demo_command_refuses_a_database_that_is_not_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'used.db'}"
    used = Database(url)
    used.upgrade()
    used.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VEIN2VEIN_DATABASE_URL", url)

    assert main(["demo", "--out", str(tmp_path / "out")]) == 2

    assert "the demo needs an empty database" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "out" / "summary.json").exists()
