"""The quality range: how many test lots fall inside the reference mean ± k SD."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from vein2vein.errors import InvalidInputError

from ._data import SMALL_N, as_values, check_positive, require_n
from ._result_base import ResultMixin

__all__ = ["QualityRangeResult", "quality_range"]


@dataclass(frozen=True)
class QualityRangeResult(ResultMixin):
    """Test lots against the reference quality range ``mean ± k × SD``.

    A lot on a limit counts as inside. ``lots_outside`` names the test lots
    outside the range (by the index of a :class:`pandas.Series` input, otherwise
    by 0-based position).
    """

    n_reference: int
    reference_mean: float
    reference_sd: float
    k: float
    low: float
    high: float
    n_test: int
    n_inside: int
    n_below: int
    n_above: int
    share_inside: float
    required_share: float
    meets: bool
    lots_outside: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()

    @property
    def conclusion(self) -> str:
        """``"within quality range"`` or ``"not within quality range"``."""
        return "within quality range" if self.meets else "not within quality range"


def quality_range(
    test: npt.ArrayLike | pd.Series,
    reference: npt.ArrayLike,
    *,
    k: float = 3.0,
    required_share: float = 0.9,
) -> QualityRangeResult:
    """Count the test lots inside the reference quality range ``mean ± k × SD``.

    The quality range approach of FDA's 2019 draft guidance on comparative
    analytical assessment: the range is set from the reference lots as
    ``mean ± k × SD`` (SD with ddof 1), with a multiplier ``k`` justified by the
    attribute's risk, and a sufficient share of the test lots (commonly 90 %) is
    expected to fall inside. The conclusion is "within quality range" when
    ``n_inside / n_test >= required_share``.

    The quality range compares single lots with a range, not means: it has little
    power against a shift of the mean when the reference varies widely, and it
    grows with the reference SD. Use it beside, not instead of, :func:`equivalence`.

    Parameters
    ----------
    test
        Values of the CQA for the test site's lots; a :class:`pandas.Series`
        indexed by lot names the lots outside the range.
    reference
        Values of the CQA for the reference lots.
    k
        Multiple of the reference SD on either side of the reference mean.
    required_share
        Share of test lots that must be inside, in (0, 1].

    Returns
    -------
    QualityRangeResult
        The range, the count and share of test lots inside (and below, above),
        the lots outside, the conclusion and caveats (fewer than 10 reference or
        test lots; the range is estimated).

    Raises
    ------
    InvalidInputError
        Fewer than two reference lots, no test lots, values that are not finite
        numbers, a non-positive ``k`` or a ``required_share`` outside (0, 1].

    References
    ----------
    .. [1] FDA (2019). Development of Therapeutic Protein Biosimilars: Comparative
       Analytical Assessment and Other Quality-Related Considerations. Draft
       guidance for industry, May 2019 (quality range, mean ± X × SD).
    .. [2] Chow SC, Song F, Bai H (2016). Analytical similarity assessment in
       biosimilar studies. AAPS J 18(3):670-677 (x = 3 and 90 % of test lots).
    .. [3] Chow SC (2019). Analytical Similarity Assessment in Biosimilar Product
       Development. CRC Press, chapter 6.

    Examples
    --------
    >>> from vein2vein.comparability import quality_range
    >>> res = quality_range([80.0, 81.0, 95.0], [79.0, 80.0, 81.0, 82.0], k=3.0)
    >>> res.n_inside, res.n_test, res.lots_outside, res.conclusion
    (2, 3, ('2',), 'not within quality range')
    """
    check_positive(k, field="k")
    if not (isinstance(required_share, int | float) and 0 < required_share <= 1):
        msg = f"required_share must be in (0, 1], got {required_share!r}"
        raise InvalidInputError(msg, field="required_share")
    labels = (
        [str(i) for i in test.index]
        if isinstance(test, pd.Series)
        else [str(i) for i in range(np.size(test))]
    )
    x_test = as_values(test, field="test")
    x_ref = as_values(reference, field="reference")
    require_n(x_test, 1, field="test")
    require_n(x_ref, 2, field="reference")
    mean = float(np.mean(x_ref))
    sd = float(np.std(x_ref, ddof=1))
    low, high = mean - k * sd, mean + k * sd
    below = x_test < low
    above = x_test > high
    inside = ~(below | above)
    share = float(np.mean(inside))

    caveats: list[str] = []
    if x_ref.size < SMALL_N:
        caveats.append(
            f"the range comes from only {x_ref.size} reference lots; its limits are very "
            "uncertain (the SD of a small sample can be far from the true SD)"
        )
    if x_test.size < SMALL_N:
        caveats.append(
            f"only {x_test.size} test lots: each lot moves the share by "
            f"{100 / x_test.size:.0f} percentage points"
        )
    if sd == 0:
        caveats.append("the reference lots have no spread, so the range is a single value")
    caveats.append(
        "the quality range compares single lots with a range, not means; it has little power "
        "against a shift of the mean and widens with the reference SD"
    )

    return QualityRangeResult(
        n_reference=int(x_ref.size),
        reference_mean=mean,
        reference_sd=sd,
        k=float(k),
        low=low,
        high=high,
        n_test=int(x_test.size),
        n_inside=int(inside.sum()),
        n_below=int(below.sum()),
        n_above=int(above.sum()),
        share_inside=share,
        required_share=float(required_share),
        # counts, not float shares, decide: 9 of 10 meets 90 % exactly
        meets=bool(inside.sum() >= required_share * x_test.size - 1e-9),
        lots_outside=tuple(label for label, out in zip(labels, ~inside, strict=True) if out),
        caveats=tuple(caveats),
    )
