"""Overlap of two clone repertoires: Morisita-Horn and Jaccard, and their sample matrices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jaccard", "morisita_horn", "overlap_matrix"]


def morisita_horn(x: Any, y: Any) -> float:
    r"""Morisita-Horn overlap of two clone-count vectors over the same clones.

    :math:`C_H = \frac{2\sum x_i y_i}{(D_x + D_y) X Y}` with :math:`X = \sum x_i`,
    :math:`D_x = \sum x_i^2 / X^2` (Horn's form [2]_ of Morisita's index [1]_; Venturi et
    al. [3]_ for TCR repertoires). 1 for identical clone frequencies, 0 for no shared
    clone; weighted by abundance, so large clones dominate.

    Parameters
    ----------
    x, y
        Counts per clone, aligned.

    Returns
    -------
    float
        The overlap in [0, 1]; NaN when a sample is empty.

    References
    ----------
    .. [1] Morisita M. Measuring of interspecific association and similarity between
       communities. Mem Fac Sci Kyushu Univ Ser E (Biol) 1959;3:65-80.
    .. [2] Horn HS. Measurement of "overlap" in comparative ecological studies. Am Nat
       1966;100:419-424.
    .. [3] Venturi V, et al. Method for assessing the similarity between subsets of the T
       cell receptor repertoire. J Immunol Methods 2008;329:67-80.

    Examples
    --------
    x = (2, 1, 0), y = (1, 1, 2): X = 3, Y = 4, Dx = 5/9, Dy = 6/16, sum xy = 3, so
    C = 6 / ((5/9 + 3/8) x 12) = 6 / 11.1667 = 0.5373.

    >>> round(morisita_horn([2, 1, 0], [1, 1, 2]), 4)
    0.5373
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    sx, sy = a.sum(), b.sum()
    if sx == 0 or sy == 0:
        return float("nan")
    dx, dy = (a**2).sum() / sx**2, (b**2).sum() / sy**2
    return float(2.0 * (a * b).sum() / ((dx + dy) * sx * sy))


def jaccard(x: Any, y: Any) -> float:
    """Jaccard index of the clones present in two samples: shared / in either [1]_.

    Parameters
    ----------
    x, y
        Counts per clone, aligned.

    Returns
    -------
    float
        The index in [0, 1]; NaN when both are empty.

    References
    ----------
    .. [1] Jaccard P. The distribution of the flora in the alpine zone. New Phytol
       1912;11:37-50.

    Examples
    --------
    >>> jaccard([2, 1, 0, 0], [1, 0, 3, 0])
    0.3333333333333333
    """
    a = np.asarray(x) > 0
    b = np.asarray(y) > 0
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else float("nan")


def overlap_matrix(matrix: pd.DataFrame, metric: Any) -> pd.DataFrame:
    """``metric`` between every pair of columns (samples) of a clone x sample count table."""
    names = list(matrix.columns)
    out = pd.DataFrame(np.nan, index=names, columns=names, dtype=float)
    for i, a in enumerate(names):
        for b in names[i:]:
            value = metric(matrix[a].to_numpy(), matrix[b].to_numpy())
            out.loc[a, b] = out.loc[b, a] = value
    return out
