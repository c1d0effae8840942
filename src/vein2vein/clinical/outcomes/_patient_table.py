"""The patient table: the follow-up read back, one row per patient, linked to the product.

:func:`patient_table` builds it from the system of record; :func:`patient_outcomes`
applies the same response rules to any list of assessments (the synthetic follow-up
uses it too), and :func:`product_attributes` names the attribute columns the outcomes
report uses by default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Protocol

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...comparability import lots_from_records
from ...errors import InvalidInputError, TableInputError
from ...records import (
    Batch,
    Infusion,
    KineticsSample,
    Patient,
    ResponseAssessment,
    Site,
    ToxicityAssessment,
)
from ...support import Column, TableSchema, raise_collected, read_table
from ..kinetics._nca import nca
from ._times import RESPONSE_ORDER

__all__ = [
    "PATIENT_COLUMNS",
    "patient_outcomes",
    "patient_table",
    "product_attributes",
    "read_patient_table",
]

_RANK: Final = {name: i for i, name in enumerate(RESPONSE_ORDER)}
_RESPONDER_RANK: Final = _RANK["PR"]
_QPCR: Final = "qpcr"
_BASE_COLUMNS: Final = ["patient_id", "batch", "site", "indication", "dose_per_kg"]
_OUTCOME_COLUMNS: Final = [
    "max_crs",
    "max_icans",
    "cmax",
    "auc0_28",
    "best_response",
    "responder",
    "pfs_time",
    "pfs_event",
    "dor_time",
    "dor_event",
]
PATIENT_COLUMNS: Final[tuple[str, ...]] = (*_BASE_COLUMNS, *_OUTCOME_COLUMNS)
"""The columns of :func:`patient_table` other than the product's attributes."""


class _Assessment(Protocol):
    @property
    def day(self) -> int: ...

    @property
    def response(self) -> str: ...


def _exposure(samples: list[KineticsSample]) -> tuple[float, float]:
    """Cmax and AUC0-28 of one patient's qPCR samples (NaN when not computable)."""
    if not samples:
        return math.nan, math.nan
    samples = sorted(samples, key=lambda s: s.day)
    days = [s.day for s in samples]
    # A BLQ sample enters as 0, so nca treats exactly the flagged samples as BLQ.
    levels = [0.0 if s.below_lloq else s.value for s in samples]
    try:
        result = nca(days, levels, unit=samples[0].unit)
    except InvalidInputError:
        return math.nan, math.nan
    cmax = math.nan if result.cmax is None else result.cmax
    auc = (
        math.nan
        if result.auc_lin_log is None or result.auc_truncated
        else float(result.auc_lin_log)
    )
    return cmax, auc


def patient_outcomes(assessments: Sequence[_Assessment]) -> dict[str, Any]:
    """Best response, responder, PFS and DOR from one patient's assessments.

    Parameters
    ----------
    assessments
        Objects with ``day`` (days since infusion) and ``response`` (a category of
        :data:`RESPONSE_ORDER`), sorted by day.

    Returns
    -------
    dict
        ``best_response``, ``responder``, ``pfs_time``, ``pfs_event``, ``dor_time``,
        ``dor_event``, by the rules given in :func:`patient_table` (NaN, or None for
        ``best_response``, where not defined).
    """
    out: dict[str, Any] = {
        "best_response": None,
        "responder": math.nan,
        "pfs_time": math.nan,
        "pfs_event": math.nan,
        "dor_time": math.nan,
        "dor_event": math.nan,
    }
    if not assessments:
        return out
    until_pd: list[_Assessment] = []
    for a in assessments:
        until_pd.append(a)
        if a.response == "PD":
            break
    progressed = until_pd[-1].response == "PD"
    end = until_pd[-1].day if progressed else assessments[-1].day
    best = min(until_pd, key=lambda a: _RANK[a.response]).response
    responder = _RANK[best] <= _RESPONDER_RANK
    out.update(
        best_response=best,
        responder=int(responder),
        pfs_time=float(end),
        pfs_event=int(progressed),
    )
    if responder:
        onset = next(a.day for a in until_pd if _RANK[a.response] <= _RESPONDER_RANK)
        out.update(dor_time=float(end - onset), dor_event=int(progressed))
    return out


def patient_table(session: Session) -> pd.DataFrame:
    """One row per infused patient: the product, its release attributes and the outcomes.

    Parameters
    ----------
    session
        A reading session (:meth:`~vein2vein.records.Database.read`).

    Returns
    -------
    pandas.DataFrame
        One row per infused patient, sorted by patient code, with these columns.

    ``patient_id, batch, site, indication, dose_per_kg``
        Patient code, the infused batch code, its manufacturing site code, the
        indication and the dose per kg (NaN when the weight was not recorded).
    one column per numeric release attribute
        From :func:`~vein2vein.comparability.lots_from_records` (latest valid
        final-product result, in the attribute's most common unit), named by analyte.
    ``max_crs, max_icans``
        Highest recorded ASTCT grade; NaN when none was recorded.
    ``cmax, auc0_28``
        :func:`nca` on the ``qpcr`` samples; samples flagged ``below_lloq`` enter as
        BLQ (0). ``auc0_28`` is the linear-up/log-down AUC, NaN when the profile stops
        before day 28 (a truncated AUC is not comparable) or has no quantifiable
        sample.
    ``best_response, responder``
        Best category by ``sCR > CR > VGPR > PR > MR > SD > PD`` over the assessments
        up to and including the first PD (later ones do not count); ``responder`` is
        1 for PR or better (CR/PR; sCR, VGPR too), else 0.
    ``pfs_time, pfs_event``
        Days from infusion to the first PD (event 1), else to the last assessment
        (censored, event 0).
    ``dor_time, dor_event``
        Responders only: days from the first PR-or-better assessment to the first PD
        (event 1) or to the last assessment (event 0); NaN for non-responders.

    Patients without any response assessment have ``best_response`` None and NaN
    response and survival columns. A patient infused more than once is listed with
    the first infusion.
    """
    infusions = session.execute(
        select(Infusion, Patient.patient_code, Batch.batch_code, Site.code)
        .join(Patient, Patient.id == Infusion.patient_id)
        .join(Batch, Batch.id == Infusion.batch_id)
        .join(Site, Site.id == Batch.site_id)
        .order_by(Patient.patient_code, Infusion.infused_at, Infusion.id)
    ).all()
    toxicity = session.scalars(select(ToxicityAssessment)).all()
    responses = session.scalars(
        select(ResponseAssessment).order_by(ResponseAssessment.day, ResponseAssessment.id)
    ).all()
    kinetics = session.scalars(select(KineticsSample)).all()
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for infusion, code, lot, site in infusions:
        if infusion.patient_id in seen:
            continue
        seen.add(infusion.patient_id)
        pid = infusion.patient_id
        crs = [t.grade for t in toxicity if t.patient_id == pid and t.kind == "crs"]
        icans = [t.grade for t in toxicity if t.patient_id == pid and t.kind == "icans"]
        qpcr = [k for k in kinetics if k.patient_id == pid and k.method.lower() == _QPCR]
        cmax, auc = _exposure(qpcr)
        rows.append(
            {
                "patient_id": code,
                "batch": lot,
                "site": site,
                "indication": infusion.indication,
                "dose_per_kg": math.nan if infusion.dose_per_kg is None else infusion.dose_per_kg,
                "max_crs": max(crs) if crs else math.nan,
                "max_icans": max(icans) if icans else math.nan,
                "cmax": cmax,
                "auc0_28": auc,
                **patient_outcomes([r for r in responses if r.patient_id == pid]),
            }
        )
    table = pd.DataFrame(rows, columns=_BASE_COLUMNS + _OUTCOME_COLUMNS)
    lots = lots_from_records(session)
    lots = lots[lots["lot"].isin(table["batch"])]
    cqas = lots.pivot_table(index="lot", columns="cqa", values="value", aggfunc="first")
    cqa_columns = [c for c in sorted(cqas.columns) if c not in table.columns]
    table = table.merge(cqas[cqa_columns], left_on="batch", right_index=True, how="left").reindex(
        columns=_BASE_COLUMNS + cqa_columns + _OUTCOME_COLUMNS
    )
    return table.reset_index(drop=True)


def read_patient_table(path: str | Path) -> pd.DataFrame:
    """A patient table from a CSV file (one row per patient), as :func:`patient_table` gives.

    The file is read on the tabular-input layer (:func:`vein2vein.support.read_table`:
    UTF-8, one header naming each column once, rows as long as the header); only
    ``patient_id`` is declared, the product attributes and outcomes are whatever the
    file holds. A column whose cells are all numbers (blank for missing) is numeric,
    and every number in it must be finite; ``true``/``false`` columns are booleans;
    the rest stay text.

    Raises
    ------
    InvalidInputError
        Naming the file, line and column: it cannot be read, its header or a row is
        malformed, or a numeric column holds ``inf`` or ``1e400``.
    """
    schema = TableSchema((Column("patient_id"),), what="patients", extra="keep")
    frame = read_table(path, schema)
    problems: list[InvalidInputError] = []
    columns = {name: _typed(frame[name], str(path), problems) for name in frame.columns}
    raise_collected(problems)
    return pd.DataFrame(columns).reset_index(drop=True)


_BOOLEANS: Final = {"true": True, "false": False}


def _typed(cells: pd.Series, source: str, problems: list[InvalidInputError]) -> pd.Series:
    """One column's text cells as numbers, booleans or text, as pandas would infer."""
    given = cells.dropna()
    given = given[given != ""]
    if len(given) and given.str.casefold().isin(_BOOLEANS).all() and len(given) == len(cells):
        return cells.str.casefold().map(_BOOLEANS).astype(bool)
    try:
        numbers = {line: float(cell) for line, cell in given.items()}
    except ValueError:
        return cells.where(cells != "", None)
    # A numeric column: "nan", "inf" and "1e400" are numbers that are not finite.
    infinite = [line for line, number in numbers.items() if not math.isfinite(number)]
    for line in infinite:
        msg = f"line {line}, column {cells.name!r}: {given[line]!r} is not a finite number"
        problems.append(TableInputError(msg, file=source, field=str(cells.name), line=int(line)))
    if infinite:
        return cells  # refused with the others by the caller
    return pd.to_numeric(cells.where(cells != "", None))


def product_attributes(frame: pd.DataFrame) -> list[str]:
    """The product attribute columns of a patient table, for the outcomes report.

    Every numeric column that is not one of :data:`PATIENT_COLUMNS` (identifiers,
    dose, toxicity, exposure and outcomes) and holds at least two distinct values:
    in :func:`patient_table`, the numeric release attributes of the infused lots.

    Parameters
    ----------
    frame
        One row per patient.

    Returns
    -------
    list of str
        Column names, in frame order.

    Raises
    ------
    InvalidInputError
        No such column.

    Examples
    --------
    >>> frame = pd.DataFrame({"patient_id": ["P1", "P2"], "vcn": [1.2, 2.0],
    ...                       "viability": [90.0, 90.0], "responder": [1, 0]})
    >>> product_attributes(frame)
    ['vcn']
    """
    names = [
        str(c)
        for c in frame.columns
        if c not in PATIENT_COLUMNS
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        and frame[c].nunique(dropna=True) >= 2
    ]
    if not names:
        msg = (
            "no product attribute column (numeric, varying, not an outcome); "
            "name them with --attribute"
        )
        raise InvalidInputError(msg, field="attributes")
    return names
