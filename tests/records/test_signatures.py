"""Electronic signatures: re-authentication, manifestation, invalidation on change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from vein2vein.errors import PermissionDeniedError, ReasonRequiredError, SignatureError
from vein2vein.records import (
    SYSTEM,
    Donation,
    Signature,
    SignatureMeaning,
    content_hash,
    sign,
    signatures_of,
)
from vein2vein.testing import PASSWORD, Network, make_donation


def _n_signatures(net: Network) -> int:
    with net.db.read() as session:
        return int(session.execute(select(func.count()).select_from(Signature)).scalar_one())


def test_signature_links_signer_meaning_time_and_content(network: Network) -> None:
    donation = make_donation(network)
    qc = network.actor("qc_analyst")
    with network.db.unit_of_work(qc) as uow:
        record = uow.get(Donation, donation.din)
        sig = sign(uow, record, password=PASSWORD, meaning="reviewed")
        expected_hash = content_hash(record)
    assert sig.user_id == qc.user_id
    assert sig.printed_name == "Quincy Analyst"
    assert sig.meaning is SignatureMeaning.reviewed
    assert sig.signed_at.tzinfo is not None
    assert sig.content_hash == expected_hash
    assert len(sig.content_hash) == 64
    with network.db.read() as session:
        (status,) = signatures_of(session, session.get(Donation, donation.id))
    assert status.valid
    assert status.manifestation.startswith("Quincy Analyst (qc-analyst), ")
    assert status.manifestation.endswith(" UTC, reviewed")


def test_wrong_password_is_refused_and_nothing_is_written(network: Network) -> None:
    donation = make_donation(network)
    before = _n_signatures(network)
    with (
        pytest.raises(SignatureError, match="re-authentication failed"),
        network.db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        sign(uow, uow.get(Donation, donation.din), password="not the password", meaning="approved")
    assert _n_signatures(network) == before


def test_unknown_meaning_and_system_signer_are_refused(network: Network) -> None:
    donation = make_donation(network)
    with (
        pytest.raises(ValueError, match="meaning"),
        network.db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        sign(uow, uow.get(Donation, donation.din), password=PASSWORD, meaning="glanced at")
    with (
        pytest.raises(PermissionDeniedError, match="system"),
        network.db.unit_of_work(SYSTEM) as uow,
    ):
        sign(uow, uow.get(Donation, donation.din), password=PASSWORD, meaning="approved")


def test_change_after_signing_needs_a_reason_and_invalidates_the_signature(
    network: Network,
) -> None:
    donation = make_donation(network)
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        sign(uow, uow.get(Donation, donation.din), password=PASSWORD, meaning="reviewed")
    with (
        pytest.raises(ReasonRequiredError, match="electronic signature"),
        network.db.unit_of_work(network.actor("operator")) as uow,
    ):
        uow.change(uow.get(Donation, donation.din), volume_ml=260.0)
    with network.db.read() as session:
        assert all(s.valid for s in signatures_of(session, session.get(Donation, donation.id)))
    with network.db.unit_of_work(network.actor("operator")) as uow:
        uow.change(uow.get(Donation, donation.din), volume_ml=260.0, reason="scale re-read")
    with network.db.read() as session:
        (status,) = signatures_of(session, session.get(Donation, donation.id))
    assert not status.valid
    assert "INVALID" in status.manifestation


def test_signature_rows_themselves_cannot_be_edited_without_reason(network: Network) -> None:
    donation = make_donation(network)
    with network.db.unit_of_work(network.actor("qc_analyst")) as uow:
        sig = sign(uow, uow.get(Donation, donation.din), password=PASSWORD, meaning="reviewed")
    with (
        pytest.raises(ReasonRequiredError, match="signature"),
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        uow.change(uow.session.get(Signature, sig.id), printed_name="Someone Else")


def test_reauthentication_outside_the_transaction(network: Network) -> None:
    from datetime import timedelta

    from vein2vein.records import reauthenticate
    from vein2vein.records.signatures import Reauthentication

    donation = make_donation(network)
    qc = network.actor("qc_analyst")
    with pytest.raises(SignatureError, match="does not match"):
        reauthenticate(network.db, qc, "wrong password")
    proof = reauthenticate(network.db, qc, PASSWORD)
    with network.db.unit_of_work(qc) as uow:
        sig = sign(uow, uow.get(Donation, donation.din), password=proof, meaning="reviewed")
    assert sig.user_id == qc.user_id
    # Someone else's proof, or an expired one, does not sign.
    with (
        pytest.raises(SignatureError, match="not"),
        network.db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        sign(uow, uow.get(Donation, donation.din), password=proof, meaning="approved")
    stale = Reauthentication(proof.user_id, proof.username, proof.at - timedelta(minutes=6))
    with pytest.raises(SignatureError, match="expired"), network.db.unit_of_work(qc) as uow:
        sign(uow, uow.get(Donation, donation.din), password=stale, meaning="reviewed")
