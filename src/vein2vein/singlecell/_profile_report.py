"""The HTML report of one product profile: tables, and plots embedded as PNG data URIs.

UMAP coloured by cell state and by CAR+, signature score distributions, the clone-size
distribution and, when given, the clone-tracking plot of the patient. Plots are drawn
with matplotlib's object API (no global state), as in the clinical outcomes report.
"""

from __future__ import annotations

import base64
import functools
import io
import json
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import jinja2
import numpy as np
import pandas as pd

from ._profile_model import ProductProfile

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.figure import Figure

__all__ = ["profile_report"]

_COLOURS: Final = ("#1b6ca8", "#d95f02", "#1a7f37", "#7b3294", "#b42318", "#555555", "#e6ab02")


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _umaps(adata: AnnData, state_key: str, car_key: str) -> str | None:
    from matplotlib.figure import Figure

    if "X_umap" not in adata.obsm:
        return None
    xy = np.asarray(adata.obsm["X_umap"])
    fig = Figure(figsize=(9, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    if state_key in adata.obs:
        states = adata.obs[state_key].astype(str)
        for i, s in enumerate(sorted(states.unique())):
            m = (states == s).to_numpy()
            left.scatter(*xy[m].T, s=3, color=_COLOURS[i % len(_COLOURS)], label=s)
        left.legend(fontsize=6, markerscale=3, loc="best")
        left.set_title("UMAP by cell state", fontsize=10)
    else:
        left.scatter(*xy.T, s=3, color="#8c959f")
        left.set_title("UMAP (no state call in this release)", fontsize=10)
    if car_key in adata.obs:
        car = adata.obs[car_key].astype(bool).to_numpy()
        right.scatter(*xy[~car].T, s=3, color="#c9d1d9", label="CAR-")
        right.scatter(*xy[car].T, s=3, color="#b42318", label="CAR+")
        right.legend(fontsize=7, markerscale=3)
    right.set_title("UMAP by CAR", fontsize=10)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    return _png(fig)


def _scores(adata: AnnData, prefix: str) -> str | None:
    from matplotlib.figure import Figure

    columns = [c for c in adata.obs.columns if str(c).startswith(prefix)]
    if not columns:
        return None
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    ax = fig.subplots()
    data = [adata.obs[c].to_numpy(float) for c in columns]
    ax.boxplot([d[np.isfinite(d)] for d in data], showfliers=False)
    ax.set_xticks(range(1, len(columns) + 1), [str(c)[len(prefix) :] for c in columns])
    ax.tick_params(axis="x", labelsize=7, rotation=20)
    ax.set_ylabel("score (mean log-normalized expression)")
    return _png(fig)


def _clone_sizes(adata: AnnData, clone_key: str) -> str | None:
    from matplotlib.figure import Figure

    if clone_key not in adata.obs:
        return None
    sizes = adata.obs[clone_key].dropna().astype(str).value_counts().to_numpy()
    if not sizes.size:
        return None
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    values, counts = np.unique(sizes, return_counts=True)
    left.bar(values.astype(str), counts, color="#1b6ca8")
    left.set_xlabel("clone size (cells)")
    left.set_ylabel("clonotypes")
    left.tick_params(axis="x", labelsize=6)
    right.loglog(np.arange(1, sizes.size + 1), sizes, marker=".", color="#1b6ca8")
    right.set_xlabel("clone rank")
    right.set_ylabel("cells")
    right.set_title("rank-size", fontsize=9)
    return _png(fig)


def _tracking(frame: pd.DataFrame) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    labels = [f"{r.timepoint}\n{r.sample}" for r in frame.itertuples(index=False)]
    ax.plot(range(len(frame)), frame["fraction_in_product_clones"], marker="o", color="#1b6ca8")
    ax.set_xticks(range(len(frame)), labels, fontsize=6)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of cells in product clones")
    return _png(fig)


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _load_template(name: str) -> str:
    return (files("vein2vein.singlecell") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    return env


def profile_report(
    profile: ProductProfile,
    path: str | Path,
    *,
    adata: AnnData | None = None,
    tracking: pd.DataFrame | None = None,
    state_key: str = "v2v_state",
    car_key: str = "car_positive",
    score_prefix: str = "v2v_score_",
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
        The patient's clone tracking (``sample, timepoint, n_cells,
        fraction_in_product_clones``), for the tracking plot.
    state_key, car_key, score_prefix, clone_key
        The ``obs`` keys the plots read.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from matplotlib.figure import Figure  # noqa: F401 - fail early without matplotlib

    plots: list[tuple[str, str]] = []
    if adata is not None:
        for title, image in (
            ("UMAP: cell states and CAR+ cells", _umaps(adata, state_key, car_key)),
            ("Signature score distributions", _scores(adata, score_prefix)),
            ("Clone-size distribution", _clone_sizes(adata, clone_key)),
        ):
            if image is not None:
                plots.append((title, image))
    if tracking is not None and len(tracking):
        plots.append(("Clone tracking: fraction of cells in product clones", _tracking(tracking)))
    html = (
        _environment()
        .get_template("profile.html")
        .render(
            p=profile,
            sha=profile.sha256(),
            plots=plots,
            parameters=json.dumps(profile.parameters, indent=2, sort_keys=True),
        )
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
