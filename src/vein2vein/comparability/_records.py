"""Lots and their quality attributes, read from the system of record."""

from __future__ import annotations

from collections import Counter

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..records import AssayResult, Batch, Sample, Site
from ..specs import UnitProblem, convert

__all__ = ["lots_from_records"]


def lots_from_records(session: Session, *, stage: str = "final_product") -> pd.DataFrame:
    """One row per lot and numeric quality attribute: ``lot, site, cqa, value, unit``.

    The latest valid result of each analyte counts (a retest supersedes); qualitative
    and censored results (``negative``, ``<0.5``) are left out, as they cannot enter a
    mean. Values are expressed in each attribute's most common unit.
    """
    rows = session.execute(
        select(
            Batch.batch_code,
            Site.code,
            AssayResult.analyte,
            AssayResult.value_text,
            AssayResult.unit,
            AssayResult.id,
        )
        .join(Sample, Sample.id == AssayResult.sample_id)
        .join(Batch, Batch.id == Sample.batch_id)
        .join(Site, Site.id == Batch.site_id)
        .where(Sample.stage == stage, AssayResult.status != "invalidated")
        .order_by(AssayResult.id)
    ).all()
    latest: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    for lot, site, analyte, text, unit, _ in rows:
        latest[(lot, analyte)] = (site, text, unit)
    units = Counter((analyte, unit) for (_, analyte), (_, _, unit) in latest.items())
    preferred: dict[str, str | None] = {}
    for (analyte, unit), _n in units.most_common():
        preferred.setdefault(analyte, unit)
    out = []
    for (lot, analyte), (site, text, unit) in latest.items():
        try:
            value = float(text)
            value = (
                convert(value, unit, preferred[analyte]) if unit != preferred[analyte] else value
            )
        except (ValueError, UnitProblem):
            continue
        out.append(
            {"lot": lot, "site": site, "cqa": analyte, "value": value, "unit": preferred[analyte]}
        )
    return pd.DataFrame(out, columns=["lot", "site", "cqa", "value", "unit"])
