"""HTML report of a design's simulated operating characteristics, with two plots."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..support import save_figure
from ._simulate import OperatingCharacteristics

__all__ = ["oc_report"]

SIMULATED_LABEL = "SIMULATED: operating characteristics of virtual trials, not patient data"


def _bar(values: list[float], truth: pd.DataFrame, ylabel: str, title: str, out: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    doses = truth["dose"].to_numpy()
    ax.bar(doses, values, color="#1f4e79", width=0.6)
    ax.set_xticks(doses)
    ax.set_xlabel("dose level")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    twin = ax.twinx()
    twin.plot(doses, truth["true_tox"], "o-", color="#c00000", label="true toxicity")
    if "true_eff" in truth.columns:
        twin.plot(doses, truth["true_eff"], "s--", color="#2e7d32", label="true efficacy")
    twin.set_ylim(0, 1)
    twin.set_ylabel("true probability")
    twin.legend(loc="upper left", fontsize=8)
    save_figure(fig, out)


def oc_report(oc: OperatingCharacteristics, *, out_dir: str | Path) -> Path:
    """Write ``oc-report.html`` with ``oc-selection.png`` and ``oc-patients.png``.

    Parameters
    ----------
    oc
        The result of :func:`simulate`.
    out_dir
        Folder to write into (created if needed).

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = oc.to_frame()
    _bar(
        list(oc.selection),
        frame,
        "selection probability",
        f"{oc.design}: probability of selecting each dose",
        out / "oc-selection.png",
    )
    _bar(
        list(oc.mean_patients),
        frame,
        "mean patients treated",
        f"{oc.design}: patients treated per dose",
        out / "oc-patients.png",
    )
    summary = {
        "design": oc.design,
        "scenario": oc.label,
        "simulated trials": oc.n_trials,
        "cohort size / maximum sample size": f"{oc.cohort_size} / {oc.max_n}",
        "seed": oc.seed,
        "no dose selected": f"{oc.no_selection:.3f}",
        "early stop": f"{oc.early_stop:.3f}",
        "mean sample size": f"{oc.mean_total:.1f}",
        "toxicity rate per patient": f"{oc.toxicity_rate:.3f}",
        "efficacy rate per patient": (
            "not simulated" if oc.true_eff is None else f"{oc.efficacy_rate:.3f}"
        ),
    }
    duration = getattr(oc, "mean_duration_months", None)
    if duration is not None:
        summary["mean trial duration (months)"] = f"{duration:.1f}"
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in summary.items()
    )
    table = frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Operating characteristics</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}
.label{{background:#fff3cd;padding:.5rem;border:1px solid #d4a017}}
table{{border-collapse:collapse}}td,th{{padding:.2rem .6rem;text-align:right}}</style>
</head><body>
<p class="label">{html.escape(SIMULATED_LABEL)}</p>
<h1>Operating characteristics: {html.escape(oc.design)}</h1>
<table>{rows}</table>
<h2>By dose level</h2>
{table}
<h2>Plots</h2>
<img src="oc-selection.png" alt="selection probability per dose">
<img src="oc-patients.png" alt="patients treated per dose">
</body></html>
"""
    path = out / "oc-report.html"
    path.write_text(page, encoding="utf-8")
    return path
