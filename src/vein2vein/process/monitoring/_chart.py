"""One batch's control chart of one parameter, against the limits that apply to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import InvalidInputError
from ...records import ProcessParameter, get_record
from ..plot import plot_control_chart
from ..rules import evaluate_rules
from .monitor import DEFAULT_RULES, chart_frame

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["draw_batch_chart"]


def draw_batch_chart(
    session: Session, *, batch: str, parameter: str, out: str | Path, title: str | None = None
) -> Path:
    """Draw a batch's window means of ``parameter`` with its active limits and signals.

    The points that complete a violation of the monitoring rules
    (:data:`DEFAULT_RULES`, Western Electric / Nelson) against the active limit set are
    drawn in red; without limits the means are drawn alone.

    Parameters
    ----------
    session
        A read session.
    batch, parameter
        Which batch and which registered process parameter.
    out
        The image file (``.png``, ``.svg`` or ``.pdf``).
    title
        The figure title (default ``"<batch>: <parameter> (window means)"``).

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    InvalidInputError
        The batch has no readings of ``parameter`` (field ``parameter``).
    RecordNotFoundError
        No such batch or parameter.
    """
    frame, limits = chart_frame(session, batch=batch, parameter=parameter)
    unit = get_record(session, ProcessParameter, parameter).unit
    if frame.empty:
        msg = f"no {parameter} readings for {batch}"
        raise InvalidInputError(msg, field="parameter")
    flagged: set[int] = set()
    if limits is not None:
        for violation in evaluate_rules(
            frame["value"].to_numpy(float),
            center=limits.center,
            sigma=limits.sigma,
            rules=list(DEFAULT_RULES),
            lcl=limits.lcl,
            ucl=limits.ucl,
        ):
            flagged.update(violation.points)
    plot_control_chart(
        frame,
        center=limits.center if limits else None,
        lcl=limits.lcl if limits else None,
        ucl=limits.ucl if limits else None,
        title=title or f"{batch}: {parameter} (window means)",
        unit=unit,
        flagged=sorted(flagged),
        out=out,
    )
    return Path(out)
