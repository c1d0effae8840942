"""The HTML report of one product profile: tables, and plots embedded as PNG data URIs.

UMAP coloured by cell state and by CAR+, signature score distributions, the clone-size
distribution and, when given, the clone-tracking plot of the patient. Every plot is drawn
by its ``pl`` function (one way to draw each), with matplotlib's object API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vein2vein.support import figure_data_uri, render

from ._model import ProductProfile

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.figure import Figure

    from ..tl._tracking_result import TrackingResult

__all__ = ["profile_report", "report_figures"]

#: How the report names the states, the diversity metrics and the QC numbers.
STATE_LABELS = {
    "naive_stem_memory": "naive / stem-like memory",
    "central_memory": "central memory",
    "effector_memory": "effector memory",
    "effector_temra": "effector / TEMRA",
    "exhausted": "exhausted",
    "proliferating": "proliferating",
    "Treg": "regulatory (Treg)",
    "non_T": "not T cells",
}
DIVERSITY_LABELS = {
    "richness": "richness (clonotypes)",
    "shannon": "Shannon entropy (nats)",
    "pielou": "Pielou evenness",
    "simpson": "Simpson (1 - sum p²)",
    "inverse_simpson": "inverse Simpson",
    "gini": "Gini coefficient",
    "clonality": "clonality (1 - Pielou)",
    "top10_fraction": "fraction in the 10 largest clones",
    "d50": "D50 (clones holding half the cells)",
    "chao1": "Chao1 richness (bias-corrected)",
}
QC_LABELS = {
    "n_cells": "cells analysed",
    "n_cells_before": "cells in the matrix",
    "n_low_quality": "low-quality cells removed",
    "n_doublets": "doublets removed",
    "n_cells_after": "cells after QC",
    "median_genes": "median genes per cell",
    "median_umis": "median UMIs per cell",
    "median_pct_mt": "median mitochondrial UMIs (%)",
    "median_pct_mito": "median mitochondrial UMIs (%)",
    "doublet_rate": "doublet rate",
}


def _was_rarefied(profile: ProductProfile) -> bool:
    """Whether the diversity was drawn at a depth below the sample's own TCR cells."""
    depth = profile.diversity.get("depth")
    cells = profile.n_cells_tcr
    return depth is not None and (cells is None or depth < cells)


def _diversity_rows(diversity: dict[str, float | None]) -> list[tuple[str, Any, Any, Any, Any]]:
    """(label, observed, rarefied median, 2.5 %, 97.5 %) per metric, in report order."""
    rows = []
    for key, label in DIVERSITY_LABELS.items():
        if key in diversity:
            rows.append(
                (
                    label,
                    diversity[key],
                    diversity.get(f"{key}_rarefied"),
                    diversity.get(f"{key}_lo"),
                    diversity.get(f"{key}_hi"),
                )
            )
    return rows


def report_figures(
    adata: AnnData | None,
    tracking: TrackingResult | None = None,
    *,
    state_key: str = "v2v_state",
    car_key: str = "car_positive",
    clone_key: str = "clone_id",
) -> list[tuple[str, Figure]]:
    """The report's figures, each drawn by its :mod:`~vein2vein.singlecell.pl` function.

    A figure whose inputs are absent (no UMAP, no scores, no clonotypes, no tracking) is
    left out.

    Parameters
    ----------
    adata
        The analysed cells of the sample.
    tracking
        The patient's clone tracking.
    state_key, car_key, clone_key
        The ``obs`` keys the plots read.

    Returns
    -------
    list of (str, matplotlib.figure.Figure)
        Title and figure, in report order.
    """
    from ..pl._clones import clone_size_distribution, clonotype_tracking
    from ..pl._states import signature_violins, umap_states

    out: list[tuple[str, Figure]] = []
    if adata is not None:
        color = [k for k in (state_key, car_key) if k in adata.obs]
        if "X_umap" in adata.obsm and color:
            out.append(("UMAP by cell state and by CAR", umap_states(adata, color=color)))
        if any(str(c).startswith("v2v_score_") for c in adata.obs.columns):
            out.append(("Signature score distributions", signature_violins(adata)))
        obs = adata.obs
        expansion = f"{clone_key}_expansion"
        if expansion in obs and clone_key in obs and obs[clone_key].notna().any():
            fig = clone_size_distribution(adata, clone_key=clone_key)
            out.append(("Clone-size distribution", fig))
    if tracking is not None and len(tracking.samples):
        out.append(("Clone tracking: product clones over time", clonotype_tracking(tracking)))
    return out


def profile_report(
    profile: ProductProfile,
    path: str | Path,
    *,
    adata: AnnData | None = None,
    tracking: TrackingResult | None = None,
    state_key: str = "v2v_state",
    car_key: str = "car_positive",
    clone_key: str = "clone_id",
) -> Path:
    """Write the HTML report of a profile; return its path.

    Parameters
    ----------
    profile
        The profile.
    path
        The HTML file to write (its folder is created).
    adata
        The analysed cells of the sample, for the plots (tables only without it).
    tracking
        The patient's clone tracking (:func:`~vein2vein.singlecell.tl.track_clones`), for
        the tracking plot.
    state_key, car_key, clone_key
        The ``obs`` keys the plots read.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from matplotlib.figure import Figure  # noqa: F401 - fail early without matplotlib

    figures = report_figures(
        adata, tracking, state_key=state_key, car_key=car_key, clone_key=clone_key
    )
    plots = [(title, figure_data_uri(fig)) for title, fig in figures]
    html = render(
        "vein2vein.singlecell:profile.html",
        p=profile,
        sha=profile.sha256(),
        state_labels=STATE_LABELS,
        qc_labels=QC_LABELS,
        diversity_rows=_diversity_rows(profile.diversity),
        depth=profile.diversity.get("depth"),
        rarefied=_was_rarefied(profile),
        plots=plots,
        parameters=json.dumps(profile.parameters, indent=2, sort_keys=True),
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
