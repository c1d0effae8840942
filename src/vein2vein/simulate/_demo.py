"""The main job, end to end on synthetic data: ``vein2vein demo`` / ``make demo``.

Registers a network of three sites and its people, a few dozen apheresis donations
under valid ISBT 128 DINs, starts their batches, logs custody hand-offs (one with a
mismatched bag, refused and recorded as a deviation; one temperature excursion), has
QC sign the donation records, corrects one donation afterwards (its signature then
shows invalid), and verifies the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from .. import __version__, identity
from ..records import (
    SYSTEM,
    Batch,
    CustodyEvent,
    Database,
    Deviation,
    Donation,
    Signature,
    Site,
    User,
    add_user,
    audit,
    sign,
    signatures_of,
)
from ..records._canonical import record_image
from ._network import SYNTHETIC_LABEL, synthetic_network

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
    signatures: int = 0
    invalid_signatures: list[str] = field(default_factory=list)
    audit_entries: int = 0
    audit_ok: bool = False
    audit_findings: list[str] = field(default_factory=list)


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def run_demo(
    db: Database, out_dir: Path, *, seed: int = 0, progress: Progress | None = None
) -> DemoSummary:
    """Run the demo on an empty database and write its outputs under ``out_dir``.

    Parameters
    ----------
    db
        An empty database (it is migrated here).
    out_dir
        Folder for ``summary.json`` and one JSON batch record per batch.
    seed
        Seed of the synthetic network.
    progress
        Called as ``progress(stage, done, total)`` while the demo runs.
    """
    report = progress or _noop
    out_dir.mkdir(parents=True, exist_ok=True)
    db.upgrade()
    sites, plan = synthetic_network(seed=seed)

    with db.unit_of_work(SYSTEM) as uow:
        add_user(
            uow,
            username="admin",
            full_name="Demo Administrator",
            role="admin",
            password=DEMO_PASSWORD,
        )
    admin = db.actor("admin")
    with db.unit_of_work(admin) as uow:
        for s in sites:
            identity.register_site(uow, code=s.code, name=s.name, facility_id=s.facility_id)
        for s in sites:
            tag = s.code[-1].lower()
            add_user(
                uow,
                username=f"op-{tag}",
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
            username="qa",
            full_name="Quality Assurance Reviewer",
            role="qa_reviewer",
            password=DEMO_PASSWORD,
        )
    operators = {s.code: db.actor(f"op-{s.code[-1].lower()}") for s in sites}
    qc = db.actor("qc")
    fin = {s.code: s.facility_id for s in sites}

    dins: dict[int, str] = {}
    for k, d in enumerate(plan, start=1):
        with db.unit_of_work(operators[d.collection_site]) as uow:
            identity.register_patient(uow, patient_code=d.patient, treating_site=d.collection_site)
            din = identity.new_din(fin[d.collection_site], d.collected_at.year, d.sequence)
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

    with db.unit_of_work(qc) as uow:
        for k, d in enumerate(plan, start=1):
            sign(
                uow, uow.get(Donation, dins[d.sequence]), password=DEMO_PASSWORD, meaning="reviewed"
            )
            report("donation records reviewed (signed)", k, len(plan))

    mismatch_at = len(plan) // 3
    excursion_at = 2 * len(plan) // 3
    for k, d in enumerate(plan, start=1):
        op_collect = operators[d.collection_site]
        op_make = operators[d.manufacturing_site]
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
            code = batch.batch_code
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
            with db.unit_of_work(actor) as uow:
                result = identity.log_custody(
                    uow,
                    batch=code,
                    handoff=identity.Handoff(
                        from_party=giver,
                        to_party=taker,
                        occurred_at=when,
                        scanned_din=scanned,
                        scanned_patient=d.patient,
                        temperature_c=temperature,
                        condition="refrigerated",
                    ),
                )
            if not result.accepted:
                # The operator finds the right bag and scans again.
                with db.unit_of_work(actor) as uow:
                    identity.log_custody(
                        uow,
                        batch=code,
                        handoff=identity.Handoff(
                            from_party=giver,
                            to_party=taker,
                            occurred_at=when + timedelta(minutes=4),
                            scanned_din=dins[d.sequence],
                            scanned_patient=d.patient,
                            temperature_c=d.transit_temperature_c,
                            condition="refrigerated",
                        ),
                    )
        report("batches started, custody logged", k, len(plan))

    # A transcription error found after QC review: the correction invalidates the signature.
    corrected = dins[plan[0].sequence]
    with db.unit_of_work(operators[plan[0].collection_site]) as uow:
        donation = uow.get(Donation, corrected)
        uow.change(
            donation,
            volume_ml=(donation.volume_ml or 0) + 10.0,
            reason="volume transcribed from the wrong bag label; corrected from scale print-out",
        )

    return _summarise(db, out_dir, report)


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
