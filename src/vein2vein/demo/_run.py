"""The main job, end to end: ``vein2vein demo`` / ``make demo``.

Registers a network of three sites and its people and a few dozen apheresis
donations under valid ISBT 128 DINs; imports their characterization against the
intake specification (two rejected, one accepted with a deviation); starts batches
for the accepted ones and logs custody hand-offs (one mismatched bag refused and
recorded as a deviation; one temperature excursion); ingests six bioreactor sensor
streams per batch, sets Phase I limits from clean batches and runs a monitoring tick
(a slow pH drift at one hub, a dissolved-oxygen excursion and a temperature step are
caught as deviations, charted, and confirmed by batch MSPC); imports release-test results
per site, reviews them (QC, a second person) and decides every lot after QA has closed
or assessed, e-signed, every deviation and investigation against it (one lot rejected
on an OOS VCN confirmed by its investigation, one released at risk whose 14-day
sterility then grows, which opens a deviation and notifies the treating site, the rest
released); writes a certificate of analysis per lot; corrects
one signed donation record (its signature then shows invalid); compares two hubs'
release attributes (equivalence, quality range, site effect) in an HTML report;
infuses every released lot and records its follow-up (CRS/ICANS grades, transgene
kinetics, responses) and links product attributes to outcomes in a report; runs an
in vivo program (a vector lot released, cohorts escalated by BOIN12, kinetics and
grades, the sliding-scale report); profiles real CARPALL single-cell samples (the only
real data in the demo) and tracks a patient's product clones; verifies the trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from .. import __version__, identity
from ..comparability import lots_from_records
from ..intake import import_intake
from ..records import (
    SYSTEM,
    Actor,
    Batch,
    CustodyEvent,
    Database,
    Deviation,
    Disposition,
    Donation,
    DonationStatus,
    Investigation,
    Notification,
    Signature,
    Site,
    User,
    add_user,
    audit,
    get_record,
    reauthenticate,
    record_image,
    sign,
    signatures_of,
    utcnow,
)
from ..records.signatures import REAUTHENTICATION_VALID_FOR, Reauthentication
from ..release import (
    ResultRow,
    certificate,
    decide,
    enter_results,
    lot_problems,
    read_release_csv,
    review,
    write_coa_pdf,
)
from ..simulate import (
    INTAKE_COLUMNS,
    RELEASE_COLUMNS,
    PlannedDonation,
    PlannedSite,
    synthetic_characterization,
    synthetic_network,
    synthetic_release_results,
)
from ..specs import shipped_spec
from ..support import SYNTHETIC_LABEL, write_csv
from ._followup import run_followup
from ._invivo import run_invivo_program
from ._process import run_comparability, run_process_monitoring
from ._quality import clear_lot, close_oos_as_confirmed
from ._singlecell import record_synthetic_profile, run_singlecell_demo

__all__ = ["DEMO_PASSWORD", "DemoSummary", "run_demo"]

#: Password of every synthetic demo user (the demo signs non-interactively).
DEMO_PASSWORD = "demo-password-not-for-production"

Progress = Callable[[str, int, int], None]


@dataclass
class DemoSummary:
    """What the demo did, written to ``summary.json``."""

    label: str = SYNTHETIC_LABEL
    vein2vein_version: str = __version__
    database: str = ""
    sites: int = 0
    users: int = 0
    donations: int = 0
    batches: int = 0
    custody_events: int = 0
    refused_handoffs: list[dict[str, Any]] = field(default_factory=list)
    deviations: list[dict[str, Any]] = field(default_factory=list)
    intake: dict[str, int] = field(default_factory=dict)
    dispositions: dict[str, int] = field(default_factory=dict)
    investigations: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    certificates: int = 0
    process: dict[str, Any] = field(default_factory=dict)
    comparability: dict[str, Any] = field(default_factory=dict)
    clinical: dict[str, Any] = field(default_factory=dict)
    invivo: dict[str, Any] = field(default_factory=dict)
    singlecell: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    signatures: int = 0
    invalid_signatures: list[str] = field(default_factory=list)
    audit_entries: int = 0
    audit_ok: bool = False
    audit_findings: list[str] = field(default_factory=list)


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def run_demo(
    db: Database,
    out_dir: Path,
    *,
    seed: int = 0,
    donations_per_site: int = 12,
    singlecell_data: Path | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Run the demo on an empty database and write its outputs under ``out_dir``.

    Parameters
    ----------
    db
        An empty database (it is migrated here).
    out_dir
        Folder for ``summary.json``, the synthetic laboratory files, one JSON batch
        record per batch, and the certificates of analysis.
    seed
        Seed of the synthetic network.
    donations_per_site
        Donations collected at each of the three sites (at least 4).
    singlecell_data
        The real CARPALL single-cell folder (``../shared/data/carpall``); its samples
        are profiled into ``out_dir/singlecell``. None, or a folder that does not
        exist, skips that part (the summary says why).
    progress
        Called as ``progress(stage, done, total)`` while the demo runs.
    """
    report = progress or _noop
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "README.txt").write_text(
        f"{SYNTHETIC_LABEL}\nEverything in this folder was made by `vein2vein demo`.\n"
        "The one exception is singlecell/: profiles of REAL CARPALL single-cell samples\n"
        "(Anderson et al., Nature Medicine 2023), read from ../shared/data/carpall.\n"
    )
    db.upgrade()
    if donations_per_site < 4:  # the planted faults need a few donations
        msg = "the demo needs at least 4 donations per site"
        raise ValueError(msg)
    sites, plan = synthetic_network(seed=seed, donations_per_site=donations_per_site)
    cast = _register_people(db, sites)
    dins = _register_donations(db, plan, cast, report)
    decided = _intake(db, out_dir, plan, dins, cast, seed=seed)
    proof = reauthenticate(db, cast.qc, DEMO_PASSWORD)
    with db.unit_of_work(cast.qc) as uow:
        for k, d in enumerate(plan, start=1):
            donation = uow.get(Donation, dins[d.sequence])
            sign(uow, donation, password=proof, meaning="reviewed")
            report("donation records reviewed (signed)", k, len(plan))
    made = [d for d in plan if decided[dins[d.sequence]] != DonationStatus.rejected]
    batches = _manufacture(db, made, dins, cast, report)
    process = run_process_monitoring(
        db,
        out_dir,
        batches,
        qa=cast.qa,
        qc=cast.qc,
        operators=cast.operators,
        seed=seed,
        report=report,
    )
    quality = _release(db, out_dir, batches, cast, report, seed=seed)
    comparability = run_comparability(db, out_dir, test_site="HUB-B", reference_site="HUB-A")
    # Extended characterization of a released lot's retained sample, before it is infused.
    recorded = record_synthetic_profile(
        db, out_dir / "release" / "singlecell", actor=cast.qc, seed=seed
    )
    report("single-cell characterization recorded (synthetic)", 1, 1)
    with db.read() as session:
        lots = lots_from_records(session)
    car = lots[lots["cqa"] == "car_expression"].set_index("lot")["value"].astype(float)
    clinical = run_followup(
        db,
        out_dir,
        clinician=cast.clinician,
        car_expression=car.to_dict(),
        seed=seed,
        report=report,
    )
    invivo = run_invivo_program(
        db,
        out_dir / "invivo",
        clinician=cast.clinician,
        qa=cast.qa,
        operator=cast.qc,
        password=DEMO_PASSWORD,
        seed=seed,
    )
    report("in vivo program (BOIN12 escalation)", 1, 1)
    singlecell = _singlecell(out_dir / "singlecell", singlecell_data, seed=seed, report=report)
    singlecell["recorded"] = recorded

    # A transcription error found after QC review: the correction invalidates the signature.
    with db.unit_of_work(cast.operators[plan[0].collection_site]) as uow:
        donation = uow.get(Donation, dins[plan[0].sequence])
        uow.change(
            donation,
            volume_ml=(donation.volume_ml or 0) + 10.0,
            reason="volume transcribed from the wrong bag label; corrected from scale print-out",
        )
    summary = _summarise(db, out_dir, report)
    summary.process = process
    summary.comparability = comparability
    summary.clinical = clinical
    summary.invivo = invivo
    summary.singlecell = singlecell
    summary.quality = _quality(db, quality)
    (out_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2, default=str))
    return summary


def _singlecell(
    out_dir: Path, data_dir: Path | None, *, seed: int, report: Progress
) -> dict[str, Any]:
    if data_dir is None:
        return {"skipped": "no single-cell data folder given"}
    result = run_singlecell_demo(out_dir, data_dir=data_dir, seed=seed)
    report("single-cell profiles (real CARPALL data)", 1, 1)
    return result


def _write_rows(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> Path:
    """Write a synthetic laboratory export with the given columns (parent folders made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(rows, path, header=list(columns))


@dataclass
class _Cast:
    operators: dict[str, Actor]
    qc: Actor
    qa: Actor
    clinician: Actor
    fin: dict[str, str]


def _register_people(db: Database, sites: list[PlannedSite]) -> _Cast:
    with db.unit_of_work(SYSTEM) as uow:
        add_user(
            uow,
            username="admin",
            full_name="Demo Administrator",
            role="admin",
            password=DEMO_PASSWORD,
        )
    with db.unit_of_work(db.actor("admin")) as uow:
        for s in sites:
            identity.register_site(uow, code=s.code, name=s.name, facility_id=s.facility_id)
        for s in sites:
            add_user(
                uow,
                username=f"op-{s.code[-1].lower()}",
                full_name=f"Operator {s.code}",
                role="operator",
                password=DEMO_PASSWORD,
                site=uow.get(Site, s.code),
            )
        add_user(
            uow,
            username="qc",
            full_name="Quality Control Analyst",
            role="qc_analyst",
            password=DEMO_PASSWORD,
        )
        add_user(
            uow,
            username="clin",
            full_name="Treating Physician",
            role="clinician",
            password=DEMO_PASSWORD,
        )
        add_user(
            uow,
            username="qa",
            full_name="Quality Assurance Reviewer",
            role="qa_reviewer",
            password=DEMO_PASSWORD,
        )
    return _Cast(
        operators={s.code: db.actor(f"op-{s.code[-1].lower()}") for s in sites},
        qc=db.actor("qc"),
        qa=db.actor("qa"),
        clinician=db.actor("clin"),
        fin={s.code: s.facility_id for s in sites},
    )


def _register_donations(
    db: Database, plan: list[PlannedDonation], cast: _Cast, report: Progress
) -> dict[int, str]:
    dins: dict[int, str] = {}
    for k, d in enumerate(plan, start=1):
        with db.unit_of_work(cast.operators[d.collection_site]) as uow:
            identity.register_patient(uow, patient_code=d.patient, treating_site=d.collection_site)
            din = identity.new_din(cast.fin[d.collection_site], d.collected_at.year, d.sequence)
            identity.register_donation(
                uow,
                din=din.eye_readable,
                patient=d.patient,
                collection_site=d.collection_site,
                collected_at=d.collected_at,
                volume_ml=d.volume_ml,
            )
            dins[d.sequence] = din.din13
        report("donations registered", k, len(plan))
    return dins


def _intake(
    db: Database,
    out_dir: Path,
    plan: list[PlannedDonation],
    dins: dict[int, str],
    cast: _Cast,
    *,
    seed: int,
) -> dict[str, DonationStatus]:
    ordered = [dins[d.sequence] for d in plan]
    n = len(ordered)
    overrides = {
        ordered[n // 8]: {"viability [%]": "72.0"},  # rejected: poor viability
        ordered[n // 2]: {"cd3_count [10^9 cells]": "0.41"},  # rejected: too few T cells
        ordered[3 * n // 4]: {  # accepted on the treating physician's documented request
            "cd3_count [10^9 cells]": "0.52",
            "accept_with_deviation": "no further apheresis possible (platelets 18e9/L); "
            "treating physician requests manufacture",
        },
    }
    rows = synthetic_characterization(ordered, seed=seed + 1, overrides=overrides)
    path = _write_rows(out_dir / "intake" / "apheresis-characterization.csv", INTAKE_COLUMNS, rows)
    with db.unit_of_work(cast.qc) as uow:
        outcomes = import_intake(uow, path, shipped_spec("apheresis-intake"))
    return {o.din: o.status for o in outcomes}


def _manufacture(
    db: Database,
    plan: list[PlannedDonation],
    dins: dict[int, str],
    cast: _Cast,
    report: Progress,
) -> list[tuple[str, PlannedDonation]]:
    batches: list[tuple[str, PlannedDonation]] = []
    mismatch_at = len(plan) // 3
    excursion_at = 2 * len(plan) // 3
    for k, d in enumerate(plan, start=1):
        op_collect = cast.operators[d.collection_site]
        op_make = cast.operators[d.manufacturing_site]
        courier = f"courier {d.collection_site}->{d.manufacturing_site}"
        with db.unit_of_work(op_make) as uow:
            batch = identity.start_batch(
                uow,
                din=dins[d.sequence],
                site=d.manufacturing_site,
                product="anti-CD19 CAR-T (autologous)",
                started_at=d.collected_at + timedelta(hours=2),
                batch_code=f"{d.manufacturing_site}-{d.sequence:04d}",
            )
            # The batch is made where the bag is; custody starts at the collection site.
            uow.change(batch, custodian=d.collection_site, reason="material at collection site")
            batches.append((batch.batch_code, d))
        hops = [
            (op_collect, d.collection_site, courier, d.collected_at + timedelta(hours=3)),
            (op_make, courier, d.manufacturing_site, d.collected_at + timedelta(hours=9)),
        ]
        for hop, (actor, giver, taker, when) in enumerate(hops):
            scanned = dins[d.sequence]
            temperature = d.transit_temperature_c
            if k == mismatch_at and hop == 1:
                # The receiving hub scans the neighbouring bag on the bench.
                scanned = dins[plan[k].sequence]
            if k == excursion_at and hop == 1:
                temperature = 11.4
            handoff = identity.Handoff(
                from_party=giver,
                to_party=taker,
                occurred_at=when,
                scanned_din=scanned,
                scanned_patient=d.patient,
                temperature_c=temperature,
                condition="refrigerated",
            )
            with db.unit_of_work(actor) as uow:
                result = identity.log_custody(uow, batch=batch.batch_code, handoff=handoff)
            if not result.accepted:
                # The operator finds the right bag and scans again.
                retry = replace(
                    handoff,
                    occurred_at=when + timedelta(minutes=4),
                    scanned_din=dins[d.sequence],
                    temperature_c=d.transit_temperature_c,
                )
                with db.unit_of_work(actor) as uow:
                    identity.log_custody(uow, batch=batch.batch_code, handoff=retry)
        report("batches started, custody logged", k, len(plan))
    return batches


def _release(
    db: Database,
    out_dir: Path,
    batches: list[tuple[str, PlannedDonation]],
    cast: _Cast,
    report: Progress,
    *,
    seed: int,
) -> list[str]:
    """Results, review, QA's work on each lot's problems, disposition, escalation, CoAs."""
    spec = shipped_spec("anti-cd19-cart-release")
    codes = [code for code, _ in batches]
    oos, at_risk = codes[len(codes) // 4], codes[len(codes) // 2]
    overrides = {oos: {"vcn": "6.3"}, at_risk: {"sterility_14d": "pending"}}
    rows = synthetic_release_results(codes, seed=seed + 2, overrides=overrides)
    site_of = {code: d.manufacturing_site for code, d in batches}
    by_site: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_site.setdefault(site_of[row["batch"]], []).append(row)
    rng = np.random.default_rng(seed + 3)
    with db.unit_of_work(cast.qc) as uow:
        for code, _ in batches:
            uow.change(
                uow.get(Batch, code),
                patient_weight_kg=round(float(rng.uniform(16, 95)), 1),
                dose_volume_ml=round(float(rng.uniform(40, 90)), 0),
            )
    # Each hub's instrument export is imported by that hub; QC reviews (a second person).
    for site, site_rows in sorted(by_site.items()):
        path = _write_rows(out_dir / "release" / f"results-{site}.csv", RELEASE_COLUMNS, site_rows)
        with db.unit_of_work(cast.operators[site]) as uow:
            enter_results(uow, read_release_csv(path), spec=spec, source=str(path))
    proofs = _Proofs(db)
    actions: list[str] = []
    for k, (code, _) in enumerate(batches, start=1):
        qc_proof = proofs.of(cast.qc)  # re-authentication before the write lock
        with db.unit_of_work(cast.qc) as uow:
            review(uow, batch=code, spec=spec, password=qc_proof)
        # QA works through what stands against the lot before deciding it.
        actions += clear_lot(db, code, qa=cast.qa, proof=proofs.of)
        if code == oos:
            actions += close_oos_as_confirmed(
                db,
                code,
                qa=cast.qa,
                proof=proofs.of,
                conclusion="phase I laboratory investigation found no assignable cause "
                "(ddPCR run, standards and calculation checked); the OOS result is confirmed",
            )
        qa_proof = proofs.of(cast.qa)
        with db.unit_of_work(cast.qa) as uow:
            if code == oos:
                decide(
                    uow,
                    batch=code,
                    disposition="rejected",
                    password=qa_proof,
                    justification="VCN above 5 copies/transduced cell; OOS confirmed",
                )
            elif code == at_risk:
                decide(
                    uow,
                    batch=code,
                    disposition="released_at_risk",
                    password=qa_proof,
                    justification="rapidly progressing disease; 14-day sterility pending, "
                    "rapid sterility negative; treating physician informed",
                )
            else:
                decide(uow, batch=code, disposition="released", password=qa_proof)
        report("release: review and disposition", k, len(batches))
    # Day 14: the compendial sterility test of the lot released at risk grows an organism:
    # OOS investigation, critical deviation, treating site notified; QC reviews the final
    # results and QA recalls the lot.
    late = ResultRow(
        batch=at_risk, analyte="sterility_14d", value="growth", method="USP <71> 14-day"
    )
    with db.unit_of_work(cast.operators[site_of[at_risk]]) as uow:
        enter_results(uow, [late], spec=spec)
    qc_proof = proofs.of(cast.qc)
    with db.unit_of_work(cast.qc) as uow:
        review(uow, batch=at_risk, spec=spec, password=qc_proof)
    qa_proof = proofs.of(cast.qa)
    with db.unit_of_work(cast.qa) as uow:
        decide(
            uow,
            batch=at_risk,
            disposition="rejected",
            password=qa_proof,
            justification="recall: 14-day sterility positive after release at risk; "
            "treating site notified (see deviation)",
        )
    coa_dir = out_dir / "coa"
    with db.read() as session:
        for k, (code, _) in enumerate(batches, start=1):
            coa = certificate(session, get_record(session, Batch, code), synthetic=True)
            write_coa_pdf(coa, coa_dir / f"{code}.pdf")
            report("certificates of analysis (PDF)", k, len(batches))
    return actions


class _Proofs:
    """Each demo user re-authenticates once per five minutes (one signing session)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._proofs: dict[str, Reauthentication] = {}

    def of(self, actor: Actor) -> Reauthentication:
        proof = self._proofs.get(actor.username)
        if proof is None or utcnow() - proof.at > REAUTHENTICATION_VALID_FOR / 2:
            proof = reauthenticate(self._db, actor, DEMO_PASSWORD)
            self._proofs[actor.username] = proof
        return proof


def _quality(db: Database, actions: list[str]) -> dict[str, Any]:
    """What QA did before deciding the lots, and every problem still open, with its lot."""
    still_open = []
    with db.read() as session:
        for batch in session.scalars(select(Batch).order_by(Batch.id)):
            for p in lot_problems(session, batch):
                if p.status != "closed":
                    still_open.append(
                        {
                            "code": p.code,
                            "batch": batch.batch_code,
                            "batch_status": str(batch.status),
                            "assessment": p.assessment,
                        }
                    )
    return {
        "label": SYNTHETIC_LABEL,
        "actions": actions,
        "closed": sum(a.endswith("closed") for a in actions),
        "assessed_no_impact": sum("no impact" in a for a in actions),
        "investigations_confirmed": sum(a.endswith("confirmed") for a in actions),
        "still_open": still_open,
    }


def _summarise(db: Database, out_dir: Path, report: Progress) -> DemoSummary:
    summary = DemoSummary(database=repr(db))
    with db.read() as session:

        def count(model: type[Any]) -> int:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())

        summary.sites = count(Site)
        summary.users = count(User)
        summary.donations = count(Donation)
        summary.batches = count(Batch)
        summary.custody_events = count(CustodyEvent)
        summary.signatures = count(Signature)
        for status in session.scalars(select(Donation.status)):
            summary.intake[str(status)] = summary.intake.get(str(status), 0) + 1
        for d in session.scalars(select(Disposition.disposition)):
            summary.dispositions[d] = summary.dispositions.get(d, 0) + 1
        summary.investigations = [
            f"{i.code}: {i.description}"
            for i in session.scalars(select(Investigation).order_by(Investigation.id))
        ]
        summary.notifications = [
            n.subject for n in session.scalars(select(Notification).order_by(Notification.id))
        ]
        summary.certificates = len(list((out_dir / "coa").glob("*.pdf")))
        for e in session.scalars(select(CustodyEvent).where(CustodyEvent.accepted.is_(False))):
            summary.refused_handoffs.append(
                {"batch_id": e.batch_id, "scanned": e.scanned_din, "reason": e.refusal_reason}
            )
        for dev in session.scalars(select(Deviation).order_by(Deviation.id)):
            summary.deviations.append(
                {
                    "code": dev.code,
                    "severity": dev.severity,
                    "category": dev.category,
                    "description": dev.description,
                    "status": str(dev.status),
                }
            )
        for donation in session.scalars(select(Donation).order_by(Donation.id)):
            for s in signatures_of(session, donation):
                if not s.valid:
                    summary.invalid_signatures.append(f"donation {donation.din}: {s.manifestation}")
        batches = session.scalars(select(Batch).order_by(Batch.id)).all()
        records_dir = out_dir / "batch-records"
        records_dir.mkdir(exist_ok=True)
        for k, b in enumerate(batches, start=1):
            record = {
                "label": SYNTHETIC_LABEL,
                **record_image(b),
                "din": b.donation.din,
                "patient": b.patient.patient_code,
                "custody": [
                    record_image(e)
                    for e in session.scalars(
                        select(CustodyEvent)
                        .where(CustodyEvent.batch_id == b.id)
                        .order_by(CustodyEvent.id)
                    )
                ],
            }
            (records_dir / f"{b.batch_code}.json").write_text(json.dumps(record, indent=2))
            report("batch records written", k, len(batches))
        verify = audit.verify(session)
        summary.audit_entries = verify.n_entries
        summary.audit_ok = verify.ok
        summary.audit_findings = [f.message for f in verify.findings]
    (out_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2))
    return summary
