"""The outcomes report: product attributes against patient outcomes, one HTML file.

Kaplan-Meier curves per attribute and endpoint (log-rank p raw and Holm-adjusted over
all the log-rank tests on the page), a forest plot of the Cox hazard ratios per endpoint,
and the response model's ROC curve and calibration plot, each with its conclusion in
words and its caveats. Plots are drawn with matplotlib's object API and embedded as PNG
data URIs, as in the comparability report.

References
----------
.. [1] Holm S (1979). A simple sequentially rejective multiple test procedure.
   Scand J Stat 6:65-70.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

import vein2vein
from vein2vein.errors import InvalidInputError
from vein2vein.support import figure_data_uri, render

from ._response_model import ResponseModelResult, response_model
from ._survival import CoxResult, KaplanMeierResult, cox_model, kaplan_meier_by

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["holm_adjust", "outcomes_report"]

REPORT_NAME: Final = "outcomes-report.html"
_COLOURS: Final = ("#1b6ca8", "#d95f02", "#1a7f37", "#7b3294", "#b42318", "#555555")


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control), in input order.

    Parameters
    ----------
    p_values
        Raw p-values.

    Returns
    -------
    list of float
        Adjusted p-values, capped at 1.

    References
    ----------
    .. [1] Holm S (1979). Scand J Stat 6:65-70.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return [round(float(a), 12) for a in adjusted]


def _km_plot(result: KaplanMeierResult, label: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax: Axes = fig.subplots()
    for i, g in enumerate(result.groups):
        c = result.curves[g]
        colour = _COLOURS[i % len(_COLOURS)]
        ax.step(
            c["time"],
            c["survival"],
            where="post",
            color=colour,
            label=f"{g} (n={result.n[g]}, {result.n_events[g]} events)",
        )
        ax.fill_between(c["time"], c["ci_low"], c["ci_high"], step="post", color=colour, alpha=0.15)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(result.time)
    ax.set_ylabel("survival probability")
    ax.set_title(
        f"{result.time} by {result.attribute}: log-rank p = {result.p_value:.3g}", fontsize=10
    )
    ax.legend(fontsize=7, loc="lower left")
    fig.supxlabel(label, fontsize=7, color="#555555")
    return figure_data_uri(fig)


def _forest_plot(result: CoxResult, label: str) -> str:
    from matplotlib.figure import Figure

    t = result.table
    fig = Figure(figsize=(6.5, 1.2 + 0.5 * len(t)), layout="constrained")
    ax: Axes = fig.subplots()
    ax.axvline(1.0, color="#444444", linewidth=0.8)
    for i, row in enumerate(t.itertuples(index=False)):
        y = len(t) - 1 - i
        ax.plot([row.hr_low, row.hr_high], [y, y], color="#1b6ca8", linewidth=2.5)
        ax.plot([row.hazard_ratio], [y], marker="s", color="#1b6ca8")
    ax.set_xscale("log")
    ax.set_yticks(range(len(t)), list(reversed(list(t["covariate"]))))
    ax.set_xlabel("hazard ratio per unit (95 % CI, log scale)")
    ax.set_title(f"Cox model for {result.time}", fontsize=10)
    fig.supxlabel(label, fontsize=7, color="#555555")
    return figure_data_uri(fig)


def _roc_plot(result: ResponseModelResult, label: str) -> str:
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_curve  # type: ignore[import-untyped]

    fpr, tpr, _ = roc_curve(result.y, result.oof_predictions)
    fig = Figure(figsize=(4.5, 4.2), layout="constrained")
    ax: Axes = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#9a9a9a", linestyle="--", linewidth=1)
    ax.step(
        fpr, tpr, where="post", color="#d95f02", label=f"out-of-fold AUROC {result.oof_auroc:.2f}"
    )
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("Cross-validated ROC", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.supxlabel(label, fontsize=7, color="#555555")
    return figure_data_uri(fig)


def _calibration_plot(result: ResponseModelResult, label: str) -> str:
    from matplotlib.figure import Figure

    b = result.calibration_bins
    fig = Figure(figsize=(4.5, 4.2), layout="constrained")
    ax: Axes = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#9a9a9a", linestyle="--", linewidth=1)
    ax.plot(b["mean_predicted"], b["observed_fraction"], marker="o", color="#1b6ca8")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability (out-of-fold)")
    ax.set_ylabel("observed fraction responding")
    ax.set_title(f"Calibration: slope {result.calibration_slope:.2f}", fontsize=10)
    fig.supxlabel(label, fontsize=7, color="#555555")
    return figure_data_uri(fig)


def outcomes_report(
    frame: pd.DataFrame,
    *,
    attributes: Sequence[str],
    out_dir: str | Path,
    label: str,
    endpoints: Sequence[str] = ("pfs", "dor"),
    target: str = "responder",
    n_permutations: int = 200,
    seed: int = 0,
) -> Path:
    """Write the HTML report linking product attributes to outcomes; return its path.

    For each endpoint ``e`` in ``endpoints`` whose ``{e}_time`` and ``{e}_event``
    columns are present: a Kaplan-Meier plot and log-rank test per attribute
    (:func:`kaplan_meier_by`, continuous attributes split at the median), and one Cox model
    on all attributes (:func:`cox_model`, skipped with the reason when it is refused).
    Then the response model (:func:`response_model`) on all attributes, if ``target`` is
    present. The log-rank p-values are given raw and Holm-adjusted over all the log-rank
    tests on the page; the Cox and response-model p-values are not adjusted.

    Parameters
    ----------
    frame
        One row per patient.
    attributes
        The product attribute columns (numeric).
    out_dir
        Directory to write ``outcomes-report.html`` into (created if needed).
    label
        Provenance label of the data, printed on the page and on every figure
        (say "SYNTHETIC" where true).
    endpoints
        Endpoint prefixes (default ``pfs`` and ``dor``).
    target
        The 0/1 response column.
    n_permutations, seed
        Passed to :func:`response_model`.

    Returns
    -------
    pathlib.Path
        The path of the HTML file.

    Raises
    ------
    InvalidInputError
        No attributes, a missing attribute column, no analysable endpoint or target, or
        an ``out_dir`` that is not a directory.
    """
    attrs = list(attributes)
    if not attrs:
        msg = "give at least one attribute"
        raise InvalidInputError(msg, field="attributes")
    for a in attrs:
        if a not in frame.columns:
            msg = "attribute column not in the frame"
            raise InvalidInputError(msg, field=a)

    sections: list[dict[str, Any]] = []
    km_all: list[dict[str, Any]] = []
    conclusions: list[str] = []
    for ep in endpoints:
        time, event = f"{ep}_time", f"{ep}_event"
        if time not in frame.columns or event not in frame.columns:
            continue
        sec: dict[str, Any] = {"name": ep.upper(), "km": [], "km_errors": []}
        for a in attrs:
            try:
                km = kaplan_meier_by(frame, time=time, event=event, by=a)
            except InvalidInputError as exc:
                sec["km_errors"].append(f"{ep.upper()} by {a}: {exc.reason}")
                continue
            entry: dict[str, Any] = {"result": km, "plot": _km_plot(km, label), "holm": None}
            sec["km"].append(entry)
            km_all.append(entry)
        try:
            cox = cox_model(frame, time=time, event=event, covariates=attrs)
        except InvalidInputError as exc:
            sec.update(cox=None, forest=None, cox_error=exc.reason)
            conclusions.append(f"{ep.upper()}: no Cox model ({exc.reason}).")
        else:
            sec.update(cox=cox, forest=_forest_plot(cox, label), cox_error="")
            conclusions.append(cox.summary)
        sections.append(sec)

    has_target = target in frame.columns
    if not sections and not has_target:
        msg = f"no endpoint columns ({', '.join(endpoints)}) and no {target!r} column"
        raise InvalidInputError(msg, field="frame")

    holm = holm_adjust([k["result"].p_value for k in km_all]) if km_all else []
    for entry, adj in zip(km_all, holm, strict=True):
        entry["holm"] = adj
        r: KaplanMeierResult = entry["result"]
        verdict = "differs" if adj < 0.05 else "shows no evidence of a difference"
        conclusions.insert(
            0,
            f"{r.time} by {r.attribute}: log-rank p = {r.p_value:.3g} "
            f"(Holm-adjusted {adj:.3g} over {len(km_all)} tests): survival {verdict}.",
        )

    response: ResponseModelResult | None = None
    response_error = f"no {target!r} column"
    if has_target:
        try:
            response = response_model(
                frame, features=attrs, target=target, n_permutations=n_permutations, seed=seed
            )
        except InvalidInputError as exc:
            response_error = exc.reason
        else:
            conclusions.append(response.summary)

    html = render(
        "vein2vein.clinical:outcomes.html.j2",
        label=label,
        synthetic="SYNTHETIC" in label.upper(),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        version=vein2vein.__version__,
        n_patients=len(frame),
        attributes=attrs,
        n_tests=len(km_all),
        conclusions=conclusions,
        endpoints=sections,
        response=response,
        response_error=response_error,
        roc=_roc_plot(response, label) if response else None,
        calibration=_calibration_plot(response, label) if response else None,
    )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        msg = f"{out} exists and is not a directory"
        raise InvalidInputError(msg, field="out_dir")
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_NAME
    path.write_text(html, encoding="utf-8")
    return path
