"""Paired equivalence for split-apheresis studies: one donor's cells made at two sites."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import (  # type: ignore[import-untyped]
    DescrStatsW,
    ttost_paired,
)

from vein2vein.errors import InvalidInputError

from ._data import (
    DONOR_COLUMN,
    check_alpha,
    margin_caveat,
    require_known,
    resolve_margin,
    small_n_caveat,
    unique_in_order,
    validate_frame,
)
from ._result_base import ResultMixin

__all__ = ["PairedEquivalenceResult", "PairedLots", "UnmatchedLot", "paired_equivalence"]


@dataclass(frozen=True)
class PairedLots:
    """The two lots made from one donor's split apheresis."""

    donor: str
    test_lot: str
    reference_lot: str
    test_value: float
    reference_value: float

    @property
    def difference(self) -> float:
        """Test minus reference."""
        return self.test_value - self.reference_value


@dataclass(frozen=True)
class UnmatchedLot:
    """A lot left out of the paired analysis, and why."""

    lot: str
    site: str
    donor: str | None
    reason: str


@dataclass(frozen=True)
class PairedEquivalenceResult(ResultMixin):
    """TOST on the within-donor differences (test site minus reference site).

    ``unmatched`` lists every lot of the two sites for the CQA that is not in a
    pair, with the reason; they are excluded from the test and reported.
    """

    cqa: str
    test_site: str
    reference_site: str
    n_pairs: int
    pairs: tuple[PairedLots, ...]
    mean_test: float
    mean_reference: float
    mean_difference: float
    sd_difference: float
    ci_low: float
    ci_high: float
    ci_level: float
    margin: float
    margin_source: str
    k: float | None
    reference_sd: float
    alpha: float
    df: float
    t_lower: float
    p_lower: float
    t_upper: float
    p_upper: float
    p_value: float
    equivalent: bool
    unmatched: tuple[UnmatchedLot, ...] = ()
    caveats: tuple[str, ...] = ()

    _extra = ("conclusion", "margin_basis", "unmatched_lots")

    @property
    def unmatched_lots(self) -> tuple[str, ...]:
        """The lots left out of the pairs (see ``unmatched`` for the reasons)."""
        return tuple(u.lot for u in self.unmatched)

    @property
    def conclusion(self) -> str:
        """``"equivalent"`` or ``"not shown equivalent"``."""
        return "equivalent" if self.equivalent else "not shown equivalent"

    @property
    def margin_basis(self) -> str:
        """How the margin was set, in words."""
        return f"{self.k:g} × reference SD" if self.margin_source == "k_reference_sd" else "given"

    def pairs_frame(self) -> pd.DataFrame:
        """One row per donor: the two lots, their values and the difference."""
        return pd.DataFrame(
            [
                {
                    "donor": p.donor,
                    "test_lot": p.test_lot,
                    "reference_lot": p.reference_lot,
                    "test_value": p.test_value,
                    "reference_value": p.reference_value,
                    "difference": p.difference,
                }
                for p in self.pairs
            ],
            columns=[
                "donor",
                "test_lot",
                "reference_lot",
                "test_value",
                "reference_value",
                "difference",
            ],
        )


def _split(
    site_rows: pd.DataFrame, site: str, unmatched: list[UnmatchedLot]
) -> dict[str, pd.Series]:
    """Lots of one site by donor; lots without a donor or sharing one go to ``unmatched``."""
    by_donor: dict[str, pd.Series] = {}
    counts = site_rows[DONOR_COLUMN].value_counts()
    for _, row in site_rows.iterrows():
        donor = None if pd.isna(row[DONOR_COLUMN]) else str(row[DONOR_COLUMN])
        if donor is None:
            unmatched.append(UnmatchedLot(row["lot"], site, None, "no donor recorded"))
        elif counts[donor] > 1:
            reason = f"donor {donor} has {counts[donor]} lots at {site}; the pair is ambiguous"
            unmatched.append(UnmatchedLot(row["lot"], site, donor, reason))
        else:
            by_donor[donor] = row
    return by_donor


def paired_equivalence(
    frame: pd.DataFrame,
    *,
    cqa: str,
    test_site: str,
    reference_site: str,
    margin: float | None = None,
    k: float = 1.5,
    alpha: float = 0.05,
) -> PairedEquivalenceResult:
    """Equivalence of two sites from split-apheresis pairs, by TOST on the differences.

    In a split-apheresis study one donor's apheresis is divided and manufactured at
    both sites, so donor-to-donor variation cancels in the within-donor difference
    (the paired-difference analysis; Chow & Liu 2009). Lots
    of ``test_site`` and ``reference_site`` are matched by ``donor``; the mean
    difference (test - reference) is tested with
    :func:`statsmodels.stats.weightstats.ttost_paired` against (-margin, +margin),
    with ``n_pairs - 1`` degrees of freedom. Equivalence is concluded when the
    TOST p-value is below ``alpha`` (the 1 - 2 alpha interval of the mean
    difference inside ±margin; Schuirmann 1987).

    Lots that cannot be paired (no donor, no partner at the other site, or a donor
    with several lots at one site) are listed in ``unmatched`` with the reason and
    named in a caveat; they are never silently dropped.

    Without an absolute ``margin`` the margin is ``k`` × the SD of the paired
    reference lots, the same scale as the unpaired analysis; the pairing then makes
    the test more powerful, not the margin wider.

    Parameters
    ----------
    frame
        Long table with ``lot, site, cqa, value, donor``.
    cqa
        The critical quality attribute.
    test_site, reference_site
        The two sites compared.
    margin
        Absolute equivalence margin in the CQA's unit; overrides ``k``.
    k
        Multiple of the reference SD that sets the margin when ``margin`` is None.
    alpha
        Level of each one-sided test; the interval reported is 1 - 2 alpha.

    Returns
    -------
    PairedEquivalenceResult
        The pairs, the mean and SD of the differences, the 1 - 2 alpha interval,
        the margin, both one-sided tests, the TOST p-value, the conclusion, the
        unmatched lots and caveats.

    Raises
    ------
    InvalidInputError
        No ``donor`` column, unknown CQA or site, the same site twice, fewer than
        two pairs, or differences without any spread.

    References
    ----------
    .. [1] Schuirmann DJ (1987). A comparison of the two one-sided tests procedure
       and the power approach for assessing the equivalence of average
       bioavailability. J Pharmacokinet Biopharm 15(6):657-680.
    .. [2] Chow SC, Liu JP (2009). Design and Analysis of Bioavailability and
       Bioequivalence Studies, 3rd ed. Chapman & Hall/CRC (paired and crossover
       comparisons, interval hypotheses and TOST).

    Examples
    --------
    >>> import pandas as pd
    >>> from vein2vein.comparability import paired_equivalence
    >>> rows = [("D1", 80.2, 80.9), ("D2", 85.1, 84.6), ("D3", 78.4, 78.9),
    ...         ("D4", 82.0, 82.3), ("D5", 88.3, 87.5), ("D6", 76.9, 77.6)]
    >>> frame = pd.DataFrame(
    ...     [{"lot": f"{s}-{d}", "site": s, "cqa": "viability", "value": v, "donor": d}
    ...      for d, a, b in rows for s, v in (("A", a), ("B", b))])
    >>> res = paired_equivalence(frame, cqa="viability", test_site="B", reference_site="A")
    >>> res.n_pairs, res.conclusion
    (6, 'equivalent')
    """
    check_alpha(alpha)
    if DONOR_COLUMN not in frame.columns:
        msg = "a paired analysis needs a donor column linking the lots of one apheresis"
        raise InvalidInputError(msg, field=DONOR_COLUMN)
    data = validate_frame(frame)
    require_known(cqa, unique_in_order(data["cqa"]), what="cqa", field="cqa")
    sub = data[data["cqa"] == cqa]
    known_sites = unique_in_order(sub["site"])
    require_known(test_site, known_sites, what="test site", field="test_site")
    require_known(reference_site, known_sites, what="reference site", field="reference_site")
    if test_site == reference_site:
        msg = f"test and reference site are both {test_site!r}"
        raise InvalidInputError(msg, field="reference_site")

    unmatched: list[UnmatchedLot] = []
    test_by_donor = _split(sub[sub["site"] == test_site], test_site, unmatched)
    ref_by_donor = _split(sub[sub["site"] == reference_site], reference_site, unmatched)
    for donor, row in test_by_donor.items():
        if donor not in ref_by_donor:
            reason = f"no lot of donor {donor} at {reference_site}"
            unmatched.append(UnmatchedLot(row["lot"], test_site, donor, reason))
    for donor, row in ref_by_donor.items():
        if donor not in test_by_donor:
            reason = f"no lot of donor {donor} at {test_site}"
            unmatched.append(UnmatchedLot(row["lot"], reference_site, donor, reason))
    donors = sorted(set(test_by_donor) & set(ref_by_donor))
    pairs = tuple(
        PairedLots(
            donor=d,
            test_lot=str(test_by_donor[d]["lot"]),
            reference_lot=str(ref_by_donor[d]["lot"]),
            test_value=float(test_by_donor[d]["value"]),
            reference_value=float(ref_by_donor[d]["value"]),
        )
        for d in donors
    )
    if len(pairs) < 2:
        msg = (
            f"{len(pairs)} donor(s) have lots at both {test_site} and {reference_site} for "
            f"{cqa}; a paired analysis needs at least 2 ({len(unmatched)} lot(s) unmatched)"
        )
        raise InvalidInputError(msg, field=DONOR_COLUMN)
    x_test = np.array([p.test_value for p in pairs])
    x_ref = np.array([p.reference_value for p in pairs])
    diff = x_test - x_ref
    sd_diff = float(np.std(diff, ddof=1))
    if sd_diff == 0:
        msg = "every pair has the same difference; the paired t test is undefined"
        raise InvalidInputError(msg, field="value")
    ref_sd = float(np.std(x_ref, ddof=1))
    used_margin, source = resolve_margin(margin, k, ref_sd, len(pairs))

    p_value, (t_lower, p_lower, df), (t_upper, p_upper, _) = ttost_paired(
        x_test, x_ref, -used_margin, used_margin
    )
    ci_low, ci_high = DescrStatsW(diff).tconfint_mean(alpha=2 * alpha)

    caveats: list[str] = []
    small = small_n_caveat([("pairs of", len(pairs))])
    if small:
        caveats.append(small)
    if source == "k_reference_sd":
        caveats.append(margin_caveat(k, len(pairs)))
    if unmatched:
        listed = ", ".join(f"{u.lot} ({u.site}: {u.reason})" for u in unmatched)
        caveats.append(f"{len(unmatched)} lot(s) could not be paired and were excluded: {listed}")

    return PairedEquivalenceResult(
        cqa=cqa,
        test_site=test_site,
        reference_site=reference_site,
        n_pairs=len(pairs),
        pairs=pairs,
        mean_test=float(np.mean(x_test)),
        mean_reference=float(np.mean(x_ref)),
        mean_difference=float(np.mean(diff)),
        sd_difference=sd_diff,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        ci_level=1 - 2 * alpha,
        margin=used_margin,
        margin_source=source,
        k=float(k) if source == "k_reference_sd" else None,
        reference_sd=ref_sd,
        alpha=float(alpha),
        df=float(df),
        t_lower=float(t_lower),
        p_lower=float(p_lower),
        t_upper=float(t_upper),
        p_upper=float(p_upper),
        p_value=float(p_value),
        equivalent=bool(p_value < alpha),
        unmatched=tuple(unmatched),
        caveats=tuple(caveats),
    )
