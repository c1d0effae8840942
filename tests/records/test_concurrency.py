"""Check and act under one lock: parallel processes racing for one state transition.

Each race starts N real processes on the same database (SQLite file or PostgreSQL
schema). They authenticate first, meet at a barrier, then all try the same transition
at once. Exactly one may win; the others must be refused with a clear domain error,
and the record must hold exactly one outcome.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from vein2vein import identity
from vein2vein.errors import Vein2veinError
from vein2vein.intake import Characterization, decide_intake
from vein2vein.records import (
    Batch,
    BatchStatus,
    CustodyEvent,
    Database,
    Deviation,
    DeviationStatus,
    Disposition,
    Donation,
    Evaluation,
    Investigation,
    Signature,
    close_deviation,
    close_investigation,
    open_deviation,
    reauthenticate,
)
from vein2vein.release import ResultRow, decide, enter_results, review
from vein2vein.specs import Result, shipped_spec
from vein2vein.testing import (
    PASSING_INTAKE,
    PASSING_RELEASE,
    PASSWORD,
    Network,
    make_batch,
    make_donation,
)

RELEASE_SPEC = shipped_spec("anti-cd19-cart-release")
INTAKE_SPEC = shipped_spec("apheresis-intake")

PASSING = PASSING_RELEASE

# fork: the workers are this module's functions, and each opens its own engine.
_CTX = mp.get_context("fork")


# ---------------------------------------------------------------- the race harness


def _worker(
    url: str,
    username: str,
    action: Callable[[Database, Any, Any], str],
    arg: Any,
    barrier: Any,
    results: Any,
) -> None:
    db = Database(url)
    try:
        actor = db.actor(username)
        proof = reauthenticate(db, actor, PASSWORD)  # Argon2 before the race, as the CLI does
        barrier.wait(timeout=60)
        try:
            results.put(("won", action(db, actor, (proof, arg))))
        except Vein2veinError as exc:
            results.put((type(exc).__name__, str(exc)))
    finally:
        db.dispose()


def race(
    net: Network,
    username: str,
    action: Callable[[Database, Any, Any], str],
    args: list[Any],
) -> list[tuple[str, str]]:
    """Run ``action`` once per item of ``args``, each in its own process, all at once."""
    url = net.db.url.render_as_string(hide_password=False)
    barrier = _CTX.Barrier(len(args))
    results = _CTX.Queue()
    procs = [
        _CTX.Process(target=_worker, args=(url, username, action, arg, barrier, results))
        for arg in args
    ]
    for p in procs:
        p.start()
    outcomes = []
    for _ in procs:
        try:
            outcomes.append(results.get(timeout=120))
        except queue.Empty:
            break
    for p in procs:
        p.join(timeout=30)
    assert len(outcomes) == len(args), f"a worker died: {outcomes}"
    return outcomes


def winners(outcomes: list[tuple[str, str]]) -> list[str]:
    return [detail for kind, detail in outcomes if kind == "won"]


def count(net: Network, model: type[Any], *where: Any) -> int:
    with net.db.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# ---------------------------------------------------------------- fixtures


def reviewed_lot(net: Network) -> str:
    """A batch with a complete passing result set, its dose, and a signed review."""
    code = make_batch(net).batch_code
    rows = [ResultRow(code, a, v, u) for a, (v, u) in PASSING.items()]
    with net.db.unit_of_work(net.actor("operator")) as uow:
        enter_results(uow, rows, spec=RELEASE_SPEC)
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        uow.change(uow.get(Batch, code), patient_weight_kg=20.0, dose_volume_ml=68.0)
    with net.db.unit_of_work(net.actor("qc_analyst")) as uow:
        review(uow, batch=code, spec=RELEASE_SPEC, password=PASSWORD)
    return code


# ---------------------------------------------------------------- the races


def _decide(db: Database, actor: Any, arg: Any) -> str:
    proof, (batch, disposition) = arg
    with db.unit_of_work(actor) as uow:
        decide(
            uow,
            batch=batch,
            disposition=disposition,
            password=proof,
            justification="parallel decision under test",
        )
    return str(disposition)


def test_parallel_dispositions_of_one_lot_have_one_winner(network: Network) -> None:
    lot = reviewed_lot(network)
    choices = ["released", "rejected"] * 4

    outcomes = race(network, "qa-reviewer", _decide, [(lot, c) for c in choices])

    (won,) = winners(outcomes)
    losers = [(k, d) for k, d in outcomes if k != "won"]
    assert len(losers) == 7
    for kind, detail in losers:
        assert kind == "TransitionRefusedError", detail
        assert "only a batch in quarantine" in detail, detail
    with network.db.read() as s:
        batch = s.scalars(select(Batch).where(Batch.batch_code == lot)).one()
        (disposition,) = s.scalars(select(Disposition).where(Disposition.batch_id == batch.id))
        assert disposition.disposition == won
        assert batch.status is BatchStatus(won)
    assert count(network, Signature, Signature.record_table == "dispositions") == 1


def _handoff(db: Database, actor: Any, arg: Any) -> str:
    _proof, (batch, din) = arg
    with db.unit_of_work(actor) as uow:
        record = identity.log_custody(
            uow,
            batch=batch,
            handoff=identity.Handoff(
                from_party="HUB-A",
                to_party="courier",
                occurred_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
                scanned_din=din,
            ),
        )
    if not record.accepted:
        raise_refused(record.decision.reasons)
    return "accepted"


def raise_refused(reasons: tuple[str, ...]) -> None:
    from vein2vein.errors import TransitionRefusedError

    msg = "hand-off refused"
    raise TransitionRefusedError(msg, reasons=reasons)


def test_parallel_custody_handoffs_of_one_batch_have_one_winner(network: Network) -> None:
    batch = make_batch(network, site="HUB-A")
    with network.db.read() as s:
        din = s.get(Donation, batch.donation_id).din  # type: ignore[union-attr]

    outcomes = race(network, "operator", _handoff, [(batch.batch_code, din)] * 12)

    assert winners(outcomes) == ["accepted"]
    for kind, detail in outcomes:
        if kind != "won":
            assert "the batch is held by 'courier'" in detail, detail
    accepted = CustodyEvent.batch_id == batch.id, CustodyEvent.accepted.is_(True)
    assert count(network, CustodyEvent, *accepted) == 1
    with network.db.read() as s:
        assert s.get(Batch, batch.id).custodian == "courier"  # type: ignore[union-attr]


def _close(db: Database, actor: Any, arg: Any) -> str:
    proof, code = arg
    with db.unit_of_work(actor) as uow:
        close_deviation(uow, code, password=proof, resolution="root cause found; CAPA-1")
    return "closed"


def test_parallel_closes_of_one_deviation_have_one_winner(network: Network) -> None:
    batch = make_batch(network)
    with network.db.unit_of_work(network.actor("operator")) as uow:
        code = open_deviation(
            uow,
            category="process",
            severity="minor",
            description="label printer jam",
            batch=uow.get(Batch, batch.batch_code),
        ).code

    outcomes = race(network, "qa-reviewer", _close, [code] * 6)

    assert winners(outcomes) == ["closed"]
    for kind, detail in outcomes:
        if kind != "won":
            assert (kind, detail) == ("RecordConflictError", f"{code} is already closed")
    with network.db.read() as s:
        deviation = s.scalars(select(Deviation).where(Deviation.code == code)).one()
        assert deviation.status is DeviationStatus.closed
        signed = Signature.record_table == "deviations", Signature.record_id == deviation.id
    assert count(network, Signature, *signed) == 1


def _intake(db: Database, actor: Any, arg: Any) -> str:
    _proof, (din, cd3) = arg
    values = {**PASSING_INTAKE, "cd3_count": (cd3, "10^9 cells")}
    results = tuple(Result(analyte=a, value=v, unit=u) for a, (v, u) in values.items())
    with db.unit_of_work(actor) as uow:
        return str(decide_intake(uow, Characterization(din, results, None, 2), INTAKE_SPEC).status)


def test_parallel_intake_decisions_of_one_donation_have_one_winner(network: Network) -> None:
    donation = make_donation(network)

    # Half would accept (1.5), half reject (0.2): whichever wins, it is the only decision.
    outcomes = race(network, "qc-analyst", _intake, [(donation.din, v) for v in ("1.5", "0.2") * 3])

    (won,) = winners(outcomes)
    for kind, detail in outcomes:
        if kind != "won":
            assert kind == "RecordConflictError", detail
            assert "already decided" in detail, detail
    intake = Evaluation.subject_table == "donations", Evaluation.subject_id == donation.id
    assert count(network, Evaluation, *intake) == 1
    with network.db.read() as s:
        assert str(s.get(Donation, donation.id).status) == won  # type: ignore[union-attr]


def _close_oos(db: Database, actor: Any, arg: Any) -> str:
    proof, (code, outcome) = arg
    with db.unit_of_work(actor) as uow:
        close_investigation(
            uow, code, outcome=outcome, conclusion="parallel closure under test", password=proof
        )
    return str(outcome)


def test_parallel_closes_of_one_investigation_have_one_winner(network: Network) -> None:
    code = make_batch(network).batch_code
    rows = [ResultRow(code, "vcn", "9.0", "copies/cell")]
    with network.db.unit_of_work(network.actor("operator")) as uow:
        (oos,) = enter_results(uow, rows, spec=RELEASE_SPEC).investigations
        oos_code = oos.code

    args = [(oos_code, o) for o in ("confirmed", "invalidated") * 3]
    outcomes = race(network, "qa-reviewer", _close_oos, args)

    (won,) = winners(outcomes)
    for kind, detail in outcomes:
        if kind != "won":
            assert kind == "RecordConflictError", detail
    with network.db.read() as s:
        investigation = s.scalars(select(Investigation).where(Investigation.code == oos_code)).one()
        assert (investigation.status, investigation.outcome) == ("closed", won)
        signed = Signature.record_table == "investigations", Signature.record_id == investigation.id
    assert count(network, Signature, *signed) == 1
