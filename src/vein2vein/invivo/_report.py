"""The in vivo program report: lots, dosing cohorts, kinetics, exposure, the sliding scale.

One HTML file with embedded PNG plots (matplotlib object API), read from the system of
record: the lots and their release decisions, the dosing cohorts, CAR+ kinetics by dose
level (observed, with the dose-to-CAR+ model fitted per patient), the predicted exposure
per dose level with its band, the sliding-scale chart with the designs' recommended
doses, and the CRS/ICANS grades. The model is ours (see :mod:`._kinetics`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

import vein2vein

from ..errors import InvalidInputError
from ..records import (
    Evaluation,
    InvivoLot,
    KineticsSample,
    Patient,
    ResponseAssessment,
    ToxicityAssessment,
)
from ..support import figure_data_uri, render
from ._exposure import population_exposure
from ._kinetics import TYPICAL_LENTIVIRAL, TYPICAL_LNP_MRNA
from ._kinetics_fit import InvivoFit, fit_invivo
from ._records import dosing_table
from ._sliding import plot_sliding_scale, sliding_scale

if TYPE_CHECKING:
    pass

__all__ = ["invivo_report", "invivo_table"]

_RESPONDERS: Final = frozenset({"sCR", "CR", "VGPR", "PR"})
_GRID: Final = np.linspace(0.0, 90.0, 181)


def invivo_table(session: Session) -> pd.DataFrame:
    """One row per dosed patient: the dosing, worst CRS/ICANS grades, best response, Cmax.

    Parameters
    ----------
    session
        A reading session.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`dosing_table` and ``max_crs, max_icans, crs_grade3,
        best_response, responder, cmax`` (Cmax of the CAR+ samples by
        :func:`~vein2vein.clinical.nca`; NaN without samples).
    """
    table = dosing_table(session)
    codes = dict(session.execute(select(Patient.patient_code, Patient.id)).all())
    tox = session.scalars(select(ToxicityAssessment)).all()
    responses = session.scalars(select(ResponseAssessment)).all()
    samples = session.scalars(select(KineticsSample).order_by(KineticsSample.day)).all()
    extra = []
    for code in table["patient_id"]:
        pid = codes[code]
        crs = [t.grade for t in tox if t.patient_id == pid and t.kind == "crs"]
        icans = [t.grade for t in tox if t.patient_id == pid and t.kind == "icans"]
        calls = [r.response for r in responses if r.patient_id == pid]
        mine = [s for s in samples if s.patient_id == pid and not s.below_lloq]
        cmax = max((s.value for s in mine), default=math.nan)
        extra.append(
            {
                "max_crs": max(crs) if crs else math.nan,
                "max_icans": max(icans) if icans else math.nan,
                "crs_grade3": (int(max(crs) >= 3) if crs else math.nan),
                "best_response": ",".join(sorted(set(calls))) if calls else None,
                "responder": int(bool(_RESPONDERS & set(calls))) if calls else math.nan,
                "cmax": cmax,
            }
        )
    return pd.concat([table, pd.DataFrame(extra, index=table.index)], axis=1)


def _kinetics(session: Session) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    codes = dict(session.execute(select(Patient.id, Patient.patient_code)).all())
    out: dict[str, tuple[list[float], list[float]]] = {}
    for s in session.scalars(select(KineticsSample).order_by(KineticsSample.day)):
        days, values = out.setdefault(codes[s.patient_id], ([], []))
        days.append(s.day)
        values.append(0.0 if s.below_lloq else s.value)
    return {k: (np.array(d), np.array(v)) for k, (d, v) in out.items()}


def _kinetics_plot(table: pd.DataFrame, curves: dict[str, Any], fits: dict[str, InvivoFit]) -> str:
    from matplotlib.figure import Figure

    doses = sorted(table["dose"].unique())
    fig = Figure(figsize=(3.0 * len(doses), 3.0))
    axes = np.atleast_1d(fig.subplots(1, len(doses), sharey=True))
    for ax, dose in zip(axes, doses, strict=True):
        for code in table.loc[table["dose"] == dose, "patient_id"]:
            if code not in curves:
                continue
            days, values = curves[code]
            keep = values > 0
            (line,) = ax.plot(days[keep], values[keep], "o", ms=3)
            if code in fits:
                ax.plot(_GRID[1:], fits[code].predict(_GRID[1:]), color=line.get_color(), lw=1)
        ax.set_yscale("log")
        ax.set_title(f"dose {dose:.3g}", fontsize=9)
        ax.set_xlabel("days after dosing")
    axes[0].set_ylabel("CAR+ cells/uL")
    fig.tight_layout()
    return figure_data_uri(fig)


def _exposure_plot(exposure: pd.DataFrame, table: pd.DataFrame) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.subplots()
    if exposure["cmax_low"].notna().any():
        ax.fill_between(
            exposure["dose"],
            exposure["cmax_low"],
            exposure["cmax_high"],
            alpha=0.2,
            label="95% of patients",
        )
    ax.plot(exposure["dose"], exposure["cmax"], marker="s", label="model Cmax, median")
    ax.scatter(table["dose"], table["cmax"], s=14, color="black", label="observed Cmax")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("dose")
    ax.set_ylabel("Cmax, CAR+ cells/uL")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figure_data_uri(fig)


def _start(platform: str) -> Any:
    return TYPICAL_LNP_MRNA if platform == "lnp_mrna" else TYPICAL_LENTIVIRAL


def invivo_report(
    session: Session,
    out_dir: Path,
    *,
    recommendations: Sequence[tuple[str, float]] = (),
    label: str = "data from the system of record",
    synthetic: bool = False,
) -> dict[str, Any]:
    """Write ``invivo_report.html`` into ``out_dir`` and return a JSON-ready summary.

    Parameters
    ----------
    session
        A reading session on the system of record.
    out_dir
        Folder for the report (created).
    recommendations
        ``(design name, dose)`` pairs to mark on the sliding-scale chart.
    label
        Provenance label printed at the top.
    synthetic
        Whether the data are synthetic (the label is then shown as a warning).

    Returns
    -------
    dict
        ``report`` (path), ``patients``, ``dose_levels``, ``lots``, ``exposure`` rows
        (:func:`population_exposure` over the fitted patients: median and the band
        holding 95% of them), ``sliding_scale`` fits (or the reason they could not be
        made), ``fits`` (per-patient estimates) and ``notes``. Strict JSON: missing
        numbers are None, never NaN.

    References
    ----------
    .. [1] Stein AM, et al. *CPT Pharmacometrics Syst Pharmacol* 2019;8:285-295.
    .. [2] McCullagh P, Nelder JA. *Generalized Linear Models*. 2nd ed. 1989, ch. 4.
    """
    table = invivo_table(session)
    if table.empty:
        msg = "no in vivo dosings in the database; record dosings first"
        raise InvalidInputError(msg, field="db")
    lots = session.scalars(select(InvivoLot).order_by(InvivoLot.lot_code)).all()
    decisions = {
        e.subject_id: e.outcome
        for e in session.scalars(
            select(Evaluation).where(Evaluation.subject_table == "invivo_lots")
        )
    }
    curves = _kinetics(session)
    notes: list[str] = []
    fits: dict[str, InvivoFit] = {}
    for row in table.itertuples():
        code = str(row.patient_id)
        if code not in curves:
            continue
        days, values = curves[code]
        titre = 0.0 if pd.isna(row.anti_vector_titre) else float(row.anti_vector_titre)
        try:
            fits[code] = fit_invivo(
                days, values, dose=float(row.dose), start=_start(str(row.platform)), titre=titre
            )
        except InvalidInputError as exc:
            notes.append(f"{code}: no model fit ({exc.reason})")
    doses = sorted(float(d) for d in table["dose"].unique())
    exposure = pd.DataFrame()
    if fits:
        exposure = population_exposure(doses, list(fits.values()))
    sliding: dict[str, Any]
    sliding_png = None
    try:
        curves_frame = sliding_scale(table)
        observed = (
            table.groupby("dose")
            .agg(
                response_rate=("responder", "mean"),
                toxicity_rate=("crs_grade3", "mean"),
                n=("patient_id", "size"),
            )
            .reset_index()
            .rename(columns={"dose": "x"})
        )
        fig = plot_sliding_scale(
            curves_frame,
            recommendations=recommendations,
            observed=observed,
            x_label=f"dose ({table['dose_unit'].iloc[0]})",
        )
        sliding_png = figure_data_uri(fig)
        sliding = curves_frame.attrs["fits"]
    except InvalidInputError as exc:
        sliding = {"error": exc.reason}
        notes.append(f"no sliding-scale model: {exc.reason}")
    cohorts = (
        table.groupby(["dose_level", "dose"], dropna=False)
        .agg(
            n=("patient_id", "size"),
            crs3=("crs_grade3", "sum"),
            responders=("responder", "sum"),
            max_icans=("max_icans", "max"),
        )
        .reset_index()
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "invivo_report.html"
    path.write_text(
        render(
            "vein2vein.invivo:report.html.j2",
            label=label,
            synthetic=synthetic,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            version=vein2vein.__version__,
            lots=[(lot, decisions.get(lot.id, "not decided")) for lot in lots],
            cohorts=cohorts.to_dict("records"),
            patients=table.to_dict("records"),
            kinetics_png=_kinetics_plot(table, curves, fits) if curves else None,
            exposure=json_clean(exposure.to_dict("records")),
            exposure_png=_exposure_plot(exposure, table) if not exposure.empty else None,
            sliding_png=sliding_png,
            recommendations=list(recommendations),
            notes=notes,
        ),
        encoding="utf-8",
    )
    summary: dict[str, Any] = json_clean(
        {
            "report": str(path),
            "label": label,
            "synthetic": synthetic,
            "patients": len(table),
            "dose_levels": doses,
            "lots": [{"lot": lot.lot_code, "status": lot.status} for lot in lots],
            "exposure": exposure.to_dict("records"),
            "sliding_scale": sliding,
            "recommendations": [{"design": n, "dose": d} for n, d in recommendations],
            "fits": {k: f.to_dict() for k, f in fits.items()},
            "notes": notes,
        }
    )
    return summary


def json_clean(value: Any) -> Any:
    """``value`` with NaN and infinities as None and numpy scalars as Python numbers.

    ``json.dumps`` writes float NaN as ``NaN``, which strict JSON parsers refuse.

    Parameters
    ----------
    value
        Nested dicts, lists, tuples, numbers and strings.

    Returns
    -------
    Any
        The same structure, strictly JSON-ready.

    Examples
    --------
    >>> json_clean({"a": [1.0, float("nan")], "b": np.float64(2.5)})
    {'a': [1.0, None], 'b': 2.5}
    """
    if isinstance(value, dict):
        return {k: json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
