"""The read models that ``list``/``show`` commands print (and the API will serve)."""

from __future__ import annotations

import pytest

from vein2vein import identity
from vein2vein.errors import InvalidInputError, PermissionDeniedError
from vein2vein.records import (
    SYSTEM,
    AccessPolicy,
    create_token,
    list_deviations,
    list_investigations,
    list_users,
    open_deviation,
    token_rows,
    user_id_of,
)
from vein2vein.testing import Network


def test_lists_sites_users_and_deviations(network: Network) -> None:
    with network.db.unit_of_work(network.actor("qa_reviewer")) as uow:
        open_deviation(uow, category="other", severity="minor", description="a")
    with network.db.read() as session:
        sites = identity.list_sites(session)
        users = list_users(session, policy=AccessPolicy())
        open_ones = list_deviations(session, status="open")
        closed = list_deviations(session, status="closed")
    assert [(s["code"], s["facility_id"]) for s in sites] == sorted(network.sites.items())
    assert [u["username"] for u in users] == sorted(u["username"] for u in users)
    assert {u["role"] for u in users} >= set(network.actors)
    assert all(not u["locked"] and u["active"] for u in users)
    assert [d["description"] for d in open_ones] == ["a"] and closed == []


def test_an_unknown_status_is_refused_with_the_field(network: Network) -> None:
    with network.db.read() as session:
        for lister in (list_deviations, list_investigations):
            with pytest.raises(InvalidInputError) as caught:
                lister(session, status="pending")
            assert caught.value.field == "status"
        assert list_investigations(session, status="open") == []


def test_token_rows_never_show_the_token(network: Network) -> None:
    admin = network.actor("admin")
    with network.db.unit_of_work(admin) as uow:
        issued = create_token(
            uow,
            username=network.actor("operator").username,
            scopes=["process.ingest"],
            label="historian",
        )
    with network.db.read() as session:
        [row] = token_rows(session)
        assert token_rows(session, username=admin.username) == []
    assert row["user"] == network.actor("operator").username
    assert row["label"] == "historian" and row["scopes"] == ["process.ingest"]
    assert issued.token not in {str(v) for v in row.values()}


def test_the_system_account_has_no_user_id() -> None:
    with pytest.raises(PermissionDeniedError):
        user_id_of(SYSTEM)
