"""Users and roles: Argon2 passwords, the first administrator, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from vein2vein.errors import InvalidInputError, PermissionDeniedError, RecordConflictError
from vein2vein.records import (
    SYSTEM,
    AuditEntry,
    Database,
    User,
    add_user,
    check_password,
    require,
)
from vein2vein.testing import PASSWORD, Network


def test_first_admin_is_registered_by_the_system_and_only_once(db: Database) -> None:
    with pytest.raises(InvalidInputError, match="must be an admin"), db.unit_of_work(SYSTEM) as uow:
        add_user(uow, username="op", full_name="Op", role="operator", password=PASSWORD)
    with db.unit_of_work(SYSTEM) as uow:
        add_user(uow, username="root", full_name="Root Admin", role="admin", password=PASSWORD)
    with (
        pytest.raises(PermissionDeniedError, match="first administrator"),
        db.unit_of_work(SYSTEM) as uow,
    ):
        add_user(uow, username="root2", full_name="Root 2", role="admin", password=PASSWORD)


def test_passwords_are_argon2id_and_never_enter_the_trail(network: Network) -> None:
    with network.db.read() as session:
        user = session.scalars(select(User).where(User.username == "operator")).one()
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert check_password(user, PASSWORD)
        assert not check_password(user, PASSWORD + "x")
        images = [
            e.after_image
            for e in session.scalars(select(AuditEntry).where(AuditEntry.record_table == "users"))
        ]
    assert images
    for image in images:
        assert image["password_hash"].startswith("sha256:")
        assert "$argon2" not in str(image)


def test_roles_gate_actions(network: Network) -> None:
    require(network.actor("operator"), "batch.start")
    with pytest.raises(PermissionDeniedError, match=r"may not site\.add"):
        require(network.actor("operator"), "site.add")
    with (
        pytest.raises(PermissionDeniedError),
        network.db.unit_of_work(network.actor("qa_reviewer")) as uow,
    ):
        add_user(uow, username="x", full_name="X", role="operator", password=PASSWORD)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("username", {"username": "bad name!"}),
        ("role", {"role": "superuser"}),
        ("full_name", {"full_name": "  "}),
        ("password", {"password": "short"}),
    ],
)
def test_bad_user_fields_name_the_field(network: Network, field: str, kwargs: dict) -> None:
    args = {"username": "newbie", "full_name": "New Bie", "role": "operator", "password": PASSWORD}
    with (
        pytest.raises(InvalidInputError) as info,
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        add_user(uow, **{**args, **kwargs})
    assert info.value.field == field


def test_duplicate_username_conflicts(network: Network) -> None:
    with (
        pytest.raises(RecordConflictError, match="already exists"),
        network.db.unit_of_work(network.actor("admin")) as uow,
    ):
        add_user(uow, username="operator", full_name="Dup", role="operator", password=PASSWORD)
