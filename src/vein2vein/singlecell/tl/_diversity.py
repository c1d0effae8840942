"""Clonal diversity from clone sizes, plain and rarefied to a common number of cells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ...errors import InvalidInputError

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

__all__ = ["DIVERSITY_METRICS", "diversity", "diversity_metrics"]

#: The metrics :func:`diversity` reports, in column order.
DIVERSITY_METRICS = (
    "richness",
    "shannon",
    "pielou",
    "simpson",
    "inverse_simpson",
    "gini",
    "clonality",
    "top10_fraction",
    "d50",
    "chao1",
)
_Float = NDArray[np.float64]


def diversity_metrics(counts: NDArray[Any]) -> dict[str, _Float]:
    """Every diversity metric for each row of a (samples x clones) count matrix.

    Zeros are clones absent from that row (a rarefied draw) and are ignored. See
    :func:`diversity` for the definitions.

    Parameters
    ----------
    counts
        Non-negative integer counts, shape ``(n_rows, n_clones)``.

    Returns
    -------
    dict
        Metric name -> array of length ``n_rows``.
    """
    x = np.asarray(counts, dtype=np.float64)
    n = x.sum(axis=1)
    p = x / n[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        shannon = -plogp.sum(axis=1)
        s_obs = (x > 0).sum(axis=1).astype(np.float64)
        pielou = np.where(s_obs > 1, shannon / np.log(s_obs), np.nan)
        sum_p2 = (p**2).sum(axis=1)
        ascending = np.sort(x, axis=1)
        width = x.shape[1]
        # rank among the observed clones (zeros sort first and get rank <= 0, weight 0)
        ranks = np.arange(1, width + 1)[None, :] - (width - s_obs)[:, None]
        gini = 2.0 * (ranks * ascending).sum(axis=1) / (s_obs * n) - (s_obs + 1.0) / s_obs
        descending = ascending[:, ::-1]
        top10 = descending[:, :10].sum(axis=1) / n
        d50 = (np.cumsum(descending, axis=1) < 0.5 * n[:, None]).sum(axis=1) + 1.0
        f1 = (x == 1).sum(axis=1).astype(np.float64)
        f2 = (x == 2).sum(axis=1).astype(np.float64)
        chao1 = s_obs + f1 * (f1 - 1.0) / (2.0 * (f2 + 1.0))
    return {
        "richness": s_obs,
        "shannon": shannon,
        "pielou": pielou,
        "simpson": 1.0 - sum_p2,
        "inverse_simpson": 1.0 / sum_p2,
        "gini": gini,
        "clonality": 1.0 - pielou,
        "top10_fraction": top10,
        "d50": d50,
        "chao1": chao1,
    }


def _validated_counts(values: ArrayLike, name: str) -> NDArray[np.int64]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0 or not np.isfinite(arr).all() or (arr < 0).any():
        reason = f"clone counts of {name!r} must be finite, non-negative and not empty"
        raise InvalidInputError(reason, field="counts")
    if not np.array_equal(arr, np.round(arr)):
        reason = f"clone counts of {name!r} must be whole numbers of cells"
        raise InvalidInputError(reason, field="counts")
    arr = arr[arr > 0]
    if arr.size == 0:
        reason = f"clone counts of {name!r} are all zero"
        raise InvalidInputError(reason, field="counts")
    return arr.astype(np.int64)


def _groups_from_adata(
    adata: AnnData | MuData, groupby: str | None, clone_key: str, airr_mod: str
) -> dict[str, NDArray[np.int64]]:
    from mudata import MuData

    obs = adata.mod[airr_mod].obs if isinstance(adata, MuData) else adata.obs
    if clone_key not in obs:
        reason = "no clonotypes: run vein2vein.singlecell.tl.define_clonotypes first"
        raise InvalidInputError(reason, field=clone_key)
    if groupby is None and "sample" in obs:
        groupby = "sample"
    if groupby is not None and groupby not in obs:
        reason = "grouping column not in obs"
        raise InvalidInputError(reason, field=groupby)
    frame = obs.loc[obs[clone_key].notna()]
    keys = frame[groupby].astype(str) if groupby is not None else pd.Series("all", frame.index)
    sizes = frame.groupby([keys.to_numpy(), frame[clone_key].astype(str).to_numpy()]).size()
    return {str(g): _validated_counts(s.to_numpy(), str(g)) for g, s in sizes.groupby(level=0)}


def diversity(
    data: AnnData | MuData | Mapping[str, ArrayLike] | ArrayLike,
    *,
    groupby: str | None = None,
    clone_key: str = "clone_id",
    depth: int | None = None,
    n_boot: int = 200,
    seed: int = 0,
    airr_mod: str = "airr",
) -> pd.DataFrame:
    r"""Clonal diversity per group, as observed and rarefied to a common number of cells.

    Clone counts ``n_i`` (cells per clone; ``N`` cells, ``S`` clones, ``p_i = n_i/N``):

    - ``richness``: ``S``, the number of clones (rarefied: Hurlbert's expected number of
      clones among ``depth`` cells [7]_).
    - ``shannon``: :math:`H = -\sum p_i \ln p_i`, natural logarithm (nats) [1]_.
    - ``pielou``: Pielou's evenness :math:`J = H / \ln S` (normalized Shannon; NaN when
      ``S = 1``) [4]_; equals scirpy's ``normalized_shannon_entropy``.
    - ``simpson``: the Gini-Simpson index :math:`1 - \sum p_i^2` with plug-in
      frequencies (scikit-bio ``simpson``), not Simpson's unbiased
      :math:`\sum n_i(n_i-1)/N(N-1)` [2]_.
    - ``inverse_simpson``: :math:`1 / \sum p_i^2` (Hill number of order 2; scikit-bio
      ``enspie``).
    - ``gini``: Gini coefficient of the clone sizes of the observed clones,
      :math:`G = \frac{2\sum_k k\,n_{(k)}}{S N} - \frac{S+1}{S}` (sizes ascending), the
      exact mean-difference form [3]_. It equals scikit-bio ``gini_index(method=
      "trapezoids")``; scikit-bio's default ``"rectangles"`` gives :math:`G - 1/S`.
    - ``clonality``: :math:`1 - J`, as in TCR-seq reports.
    - ``top10_fraction``: fraction of cells in the 10 largest clones.
    - ``d50``: the least number of clones that together hold at least half of the cells
      (scirpy's ``D50`` reports the same count as a percentage of ``S``) [6]_.
    - ``chao1``: bias-corrected Chao1, :math:`S + F_1(F_1-1) / (2(F_2+1))` with
      singletons ``F1`` and doubletons ``F2`` (scikit-bio ``chao1(bias_corrected=True)``;
      the classic form :math:`S + F_1^2/2F_2` is [5]_).

    Diversity grows with the number of cells sequenced, so each metric is also computed
    after rarefaction [7]_ [6]_: ``depth`` cells drawn without replacement (a multivariate
    hypergeometric draw of the clone counts), ``n_boot`` times with ``seed``; the median
    is ``<metric>_rarefied`` and the 2.5 and 97.5 percentiles ``<metric>_lo`` and
    ``<metric>_hi``. Groups with fewer than ``depth`` cells get NaN there.

    Parameters
    ----------
    data
        Clone counts of one group (a 1-D array), a mapping group -> clone counts, or an
        AnnData/MuData with clonotypes in ``obs[clone_key]`` (cells without a clone are
        left out).
    groupby
        For AnnData: the ``obs`` column that names groups; default ``"sample"`` where
        present, else all cells form one group ``"all"``.
    clone_key
        For AnnData: the clonotype column.
    depth
        Number of cells to rarefy to; default the smallest group.
    n_boot
        Number of rarefied draws.
    seed
        Seed of :func:`numpy.random.default_rng`.
    airr_mod
        For MuData: the AIRR modality.

    Returns
    -------
    pandas.DataFrame
        One row per group (index ``group``): ``n_cells``, ``n_clones``, the metrics of
        :data:`DIVERSITY_METRICS`, ``depth``, and ``<metric>_rarefied``, ``_lo``, ``_hi``.
        ``attrs["params"]`` holds the parameters.

    Raises
    ------
    InvalidInputError
        Negative, fractional or empty counts (field ``counts``), a missing clone or group
        column, or a ``depth`` or ``n_boot`` below 1.

    References
    ----------
    .. [1] Shannon CE. A mathematical theory of communication. Bell Syst Tech J
       1948;27:379-423.
    .. [2] Simpson EH. Measurement of diversity. Nature 1949;163:688.
    .. [3] Gini C. Variabilità e mutabilità. Bologna: C. Cuppini; 1912.
    .. [4] Pielou EC. The measurement of diversity in different types of biological
       collections. J Theor Biol 1966;13:131-144.
    .. [5] Chao A. Nonparametric estimation of the number of classes in a population.
       Scand J Stat 1984;11:265-270; Chao A. Estimating the population size for
       capture-recapture data with unequal catchability. Biometrics 1987;43:783-791.
    .. [6] Venturi V, Kedzierska K, Turner SJ, Doherty PC, Davenport MP. Methods for
       comparing the diversity of samples of the T cell receptor repertoire. J Immunol
       Methods 2007;321:182-195.
    .. [7] Hurlbert SH. The nonconcept of species diversity: a critique and alternative
       parameters. Ecology 1971;52:577-586.

    Examples
    --------
    Four clones of 4, 2, 1 and 1 cells (N = 8): p = 1/2, 1/4, 1/8, 1/8, so
    H = 1.75 ln 2 = 1.2130, J = 1.75 ln 2 / ln 4 = 0.875, Simpson = 1 - 11/32 = 0.65625,
    inverse Simpson = 32/11, Gini = 2(1 + 2 + 6 + 16)/(4 x 8) - 5/4 = 0.3125,
    D50 = 1 (the largest clone holds 4 of 8 cells), Chao1 = 4 + 2 x 1/(2 x 2) = 4.5.

    >>> row = diversity([4, 2, 1, 1], n_boot=10).loc["all"]
    >>> [round(float(row[m]), 5) for m in DIVERSITY_METRICS]
    [4.0, 1.21301, 0.875, 0.65625, 2.90909, 0.3125, 0.125, 1.0, 1.0, 4.5]
    >>> float(row["shannon_rarefied"]) == float(row["shannon"])  # depth = N: every draw is all
    True
    """
    from anndata import AnnData
    from mudata import MuData

    if isinstance(data, AnnData | MuData):
        groups = _groups_from_adata(data, groupby, clone_key, airr_mod)
    elif isinstance(data, Mapping):
        groups = {str(k): _validated_counts(v, str(k)) for k, v in data.items()}
    else:
        groups = {"all": _validated_counts(data, "all")}
    if not groups:
        reason = "no cell has a clonotype"
        raise InvalidInputError(reason, field=clone_key)
    if n_boot < 1:
        reason = "n_boot must be at least 1"
        raise InvalidInputError(reason, field="n_boot")
    totals = {g: int(c.sum()) for g, c in groups.items()}
    if depth is None:
        depth = min(totals.values())
    if depth < 1:
        reason = "depth must be at least 1 cell"
        raise InvalidInputError(reason, field="depth")
    rng = np.random.default_rng(seed)
    rows = []
    for name, counts in groups.items():
        observed = diversity_metrics(counts[None, :])
        row: dict[str, Any] = {
            "group": name,
            "n_cells": totals[name],
            "n_clones": int(counts.size),
        }
        row.update({m: float(observed[m][0]) for m in DIVERSITY_METRICS})
        row["depth"] = depth
        if totals[name] >= depth:
            draws = rng.multivariate_hypergeometric(counts, depth, size=n_boot)
            boot = diversity_metrics(draws)
            for m in DIVERSITY_METRICS:
                lo, med, hi = (
                    np.nanpercentile(boot[m], [2.5, 50, 97.5])
                    if np.isfinite(boot[m]).any()
                    else (np.nan, np.nan, np.nan)
                )
                row.update({f"{m}_rarefied": med, f"{m}_lo": lo, f"{m}_hi": hi})
        else:
            for m in DIVERSITY_METRICS:
                row.update({f"{m}_rarefied": np.nan, f"{m}_lo": np.nan, f"{m}_hi": np.nan})
        rows.append(row)
    table = pd.DataFrame(rows).set_index("group")
    params = {"clone_key": clone_key, "groupby": groupby, "depth": depth}
    table.attrs["params"] = {**params, "n_boot": n_boot, "seed": seed}
    if isinstance(data, AnnData | MuData):
        data.uns["v2v_diversity"] = {"params": table.attrs["params"], "table": table}
    return table
