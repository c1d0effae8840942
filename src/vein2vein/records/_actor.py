"""Who is acting: the identity every audit entry and signature carries."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SYSTEM", "Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The user on whose behalf a unit of work writes.

    Attributes
    ----------
    user_id
        Primary key of the :class:`~vein2vein.records.User`; ``None`` only for
        :data:`SYSTEM`, which bootstraps an empty database.
    username
        The unique login name.
    role
        The user's role at the time of the action (kept in the audit entry, since
        roles can change later).
    scopes
        For an actor authenticated by an API token, the actions the token allows
        (within the role's); ``None`` when the role alone decides.
    """

    user_id: int | None
    username: str
    role: str
    scopes: frozenset[str] | None = None


#: The actor of schema creation and of the first administrator's registration.
SYSTEM = Actor(user_id=None, username="system", role="system")
