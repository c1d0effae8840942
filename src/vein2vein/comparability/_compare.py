"""All comparability analyses of one test site against a reference, per CQA, in one result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import vein2vein
from vein2vein.errors import InvalidInputError
from vein2vein.support import format_number

from ._data import (
    DONOR_COLUMN,
    check_alpha,
    check_positive,
    require_known,
    unique_in_order,
    validate_frame,
)
from ._equivalence import EquivalenceResult, Usevar, equivalence
from ._mixed import SiteEffectResult, site_effect
from ._paired import PairedEquivalenceResult, paired_equivalence
from ._quality_range import QualityRangeResult, quality_range
from ._result_base import plain

__all__ = ["ComparabilityResult", "CqaComparison", "compare_sites", "report_number"]

_TIDY_COLUMNS = [
    "cqa",
    "unit",
    "analysis",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_level",
    "lower_limit",
    "upper_limit",
    "p_value",
    "n_test",
    "n_reference",
    "passed",
    "conclusion",
    "sentence",
    "caveats",
]


def report_number(value: float | None, scale: float | None = None) -> str:
    """``value`` to two significant digits of ``scale`` (default: itself), minus as −.

    The ``"report"`` style of :func:`vein2vein.support.format_number`.
    """
    return format_number(value, scale, style="report")


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def _level(level: float) -> str:
    return f"{100 * level:g} %"


@dataclass(frozen=True, eq=False)
class CqaComparison:
    """Every analysis of one CQA and its conclusions in words."""

    cqa: str
    unit: str
    equivalence: EquivalenceResult
    quality_range: QualityRangeResult
    site_effect: SiteEffectResult | None
    paired: PairedEquivalenceResult | None
    sentences: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def conclusion(self) -> str:
        """The headline sentence: the equivalence conclusion with its interval."""
        return self.sentences[0]

    @property
    def caveats(self) -> tuple[str, ...]:
        """Every caveat of every analysis of this CQA, and the notes, without repeats."""
        parts: list[str] = list(self.notes)
        for result in (self.equivalence, self.quality_range, self.site_effect, self.paired):
            if result is not None:
                parts.extend(result.caveats)
        return tuple(dict.fromkeys(parts))

    def to_dict(self) -> dict[str, Any]:
        """All results of the CQA as plain, JSON-ready values."""
        return {
            "cqa": self.cqa,
            "unit": self.unit,
            "conclusion": self.conclusion,
            "sentences": list(self.sentences),
            "notes": list(self.notes),
            "equivalence": self.equivalence.to_dict(),
            "quality_range": self.quality_range.to_dict(),
            "site_effect": None if self.site_effect is None else self.site_effect.to_dict(),
            "paired": None if self.paired is None else self.paired.to_dict(),
        }

    def to_frame(self) -> pd.DataFrame:
        """The tidy rows of this CQA, one per analysis (see ``ComparabilityResult.to_frame``)."""
        eq, qr, se, pa = self.equivalence, self.quality_range, self.site_effect, self.paired
        rows: list[dict[str, Any]] = [
            {
                "analysis": "equivalence",
                "estimate": eq.difference,
                "ci_low": eq.ci_low,
                "ci_high": eq.ci_high,
                "ci_level": eq.ci_level,
                "lower_limit": -eq.margin,
                "upper_limit": eq.margin,
                "p_value": eq.p_value,
                "n_test": eq.n_test,
                "n_reference": eq.n_reference,
                "passed": eq.equivalent,
                "conclusion": eq.conclusion,
                "sentence": self.sentences[0],
                "caveats": "; ".join(eq.caveats),
            },
            {
                "analysis": "quality_range",
                "estimate": qr.share_inside,
                "lower_limit": qr.low,
                "upper_limit": qr.high,
                "n_test": qr.n_test,
                "n_reference": qr.n_reference,
                "passed": qr.meets,
                "conclusion": qr.conclusion,
                "sentence": self.sentences[1],
                "caveats": "; ".join(qr.caveats),
            },
        ]
        rest = list(self.sentences[2:])
        if se is not None:
            rows.append(
                {
                    "analysis": "site_effect",
                    "estimate": se.icc,
                    "p_value": se.lrt_p_value,
                    "conclusion": se.conclusion,
                    "sentence": rest.pop(0),
                    "caveats": "; ".join(se.caveats),
                }
            )
        if pa is not None:
            rows.append(
                {
                    "analysis": "paired_equivalence",
                    "estimate": pa.mean_difference,
                    "ci_low": pa.ci_low,
                    "ci_high": pa.ci_high,
                    "ci_level": pa.ci_level,
                    "lower_limit": -pa.margin,
                    "upper_limit": pa.margin,
                    "p_value": pa.p_value,
                    "n_test": pa.n_pairs,
                    "n_reference": pa.n_pairs,
                    "passed": pa.equivalent,
                    "conclusion": pa.conclusion,
                    "sentence": rest.pop(0),
                    "caveats": "; ".join(pa.caveats),
                }
            )
        out = pd.DataFrame(rows).reindex(columns=_TIDY_COLUMNS)
        out["cqa"] = self.cqa
        out["unit"] = self.unit
        return out


@dataclass(frozen=True, eq=False)
class ComparabilityResult:
    """The comparability of one test site with a reference, per CQA.

    ``data`` holds the checked rows of the analysed CQAs (for plots);
    ``label`` says where the data came from and travels into every output.
    """

    label: str
    test_site: str
    reference_site: str | None
    reference_sites: tuple[str, ...]
    comparisons: tuple[CqaComparison, ...]
    params: Mapping[str, Any]
    data: pd.DataFrame = field(repr=False)

    @property
    def reference_name(self) -> str:
        """The reference in words: the site, or the pooled network and its sites."""
        if self.reference_site is not None:
            return self.reference_site
        return f"the pooled network ({', '.join(self.reference_sites)})"

    @property
    def cqas(self) -> tuple[str, ...]:
        """The CQAs compared, in order."""
        return tuple(c.cqa for c in self.comparisons)

    @property
    def conclusions(self) -> dict[str, str]:
        """The headline sentence per CQA."""
        return {c.cqa: c.conclusion for c in self.comparisons}

    def __getitem__(self, cqa: str) -> CqaComparison:
        """The comparison of one CQA."""
        for comparison in self.comparisons:
            if comparison.cqa == cqa:
                return comparison
        raise KeyError(cqa)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table: one row per CQA and analysis.

        Columns: ``cqa, unit, analysis`` (equivalence, quality_range, site_effect,
        paired_equivalence), ``estimate`` (mean difference, share of test lots
        inside, ICC, mean paired difference), ``ci_low, ci_high, ci_level``,
        ``lower_limit, upper_limit`` (±margin or the quality range), ``p_value``
        (TOST or likelihood-ratio), ``n_test, n_reference``, ``passed`` (None for the
        descriptive site-effect model), ``conclusion``, ``sentence``, ``caveats``.
        """
        frames = [c.to_frame() for c in self.comparisons]
        return (
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_TIDY_COLUMNS)
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything except the raw data, as plain JSON-ready values."""
        return {
            "label": self.label,
            "test_site": self.test_site,
            "reference_site": self.reference_site,
            "reference_sites": list(self.reference_sites),
            "reference": self.reference_name,
            "params": plain(dict(self.params)),
            "cqas": [c.to_dict() for c in self.comparisons],
        }


def _equivalence_sentence(
    subject: str,
    test: str,
    reference: str,
    res: EquivalenceResult | PairedEquivalenceResult,
    unit: str,
    *,
    paired: bool,
) -> str:
    u = _unit(unit)
    verdict = "equivalent to" if res.equivalent else "not shown equivalent to"
    basis = f"margin {res.margin_basis}"
    what = "the mean paired difference" if paired else "the difference"
    return (
        f"{subject}: {test} {verdict} {reference} within ±{report_number(res.margin)}{u} "
        f"({basis}); {_level(res.ci_level)} CI of {what} "
        f"{report_number(res.ci_low, res.margin)} to {report_number(res.ci_high, res.margin)}{u}"
    )


def _quality_range_sentence(
    cqa: str, test: str, reference: str | None, res: QualityRangeResult, unit: str
) -> str:
    u = _unit(unit)
    scale = res.reference_sd or res.reference_mean
    whose = reference or "pooled network"
    return (
        f"{cqa}: {res.n_inside} of {res.n_test} {test} lots ({_percent(res.share_inside)}) "
        f"inside the quality range {report_number(res.low, scale)} to "
        f"{report_number(res.high, scale)}{u} ({whose} mean ± {res.k:g} SD); "
        f"{_percent(res.required_share)} required: {'met' if res.meets else 'not met'}"
    )


def _site_effect_sentence(cqa: str, res: SiteEffectResult, unit: str) -> str:
    u = _unit(unit)
    scale = res.within_site_sd
    return (
        f"{cqa}: random site effect over {res.n_sites} sites: between-site SD "
        f"{report_number(res.between_site_sd, scale)}{u}, within-site SD "
        f"{report_number(res.within_site_sd, scale)}{u}, ICC {res.icc:.2f}; "
        f"likelihood-ratio test of the site variance p = {res.lrt_p_value:.2g} "
        f"({res.conclusion})"
    )


def _shared_donors(sub: pd.DataFrame, test_site: str, reference_sites: Sequence[str]) -> set[str]:
    if DONOR_COLUMN not in sub.columns:
        return set()
    donors = sub.dropna(subset=[DONOR_COLUMN])
    at_test = set(donors.loc[donors["site"] == test_site, DONOR_COLUMN])
    at_ref = set(donors.loc[donors["site"].isin(reference_sites), DONOR_COLUMN])
    return at_test & at_ref


def _compare_one(
    data: pd.DataFrame,
    cqa: str,
    *,
    test_site: str,
    reference_site: str | None,
    reference_sites: Sequence[str],
    reference_name: str,
    margin: float | None,
    k: float,
    alpha: float,
    usevar: Usevar,
    quality_range_k: float,
    required_share: float,
    unit: str,
) -> CqaComparison:
    sub = data[data["cqa"] == cqa]
    test_rows = sub[sub["site"] == test_site]
    ref_rows = sub[sub["site"].isin(reference_sites)]
    if test_rows.empty or ref_rows.empty:
        who = test_site if test_rows.empty else reference_name
        msg = f"no lots of {who} for cqa {cqa!r}"
        raise InvalidInputError(msg, field="cqa")
    notes: list[str] = []

    eq = equivalence(
        test_rows["value"], ref_rows["value"], margin=margin, k=k, alpha=alpha, usevar=usevar
    )
    qr = quality_range(
        pd.Series(test_rows["value"].to_numpy(), index=test_rows["lot"].to_numpy()),
        ref_rows["value"],
        k=quality_range_k,
        required_share=required_share,
    )
    if reference_site is None:
        notes.append(
            f"the reference pools {len(reference_sites)} sites: differences between them widen "
            "the reference SD, and so the margin and the quality range"
        )
    shared = _shared_donors(sub, test_site, reference_sites)
    if shared:
        notes.append(
            f"{len(shared)} donor(s) have lots at both the test and the reference site (split "
            "apheresis); the unpaired analyses treat those lots as independent, see the paired "
            "analysis"
        )

    try:
        se: SiteEffectResult | None = site_effect(sub, cqa=cqa, alpha=alpha)
    except InvalidInputError as exc:
        se = None
        notes.append(f"the site-effect model was not fitted: {exc.reason}")
    except np.linalg.LinAlgError as exc:
        se = None
        notes.append(f"the site-effect model could not be fitted (linear algebra: {exc})")

    paired: PairedEquivalenceResult | None = None
    if shared and reference_site is not None:
        try:
            paired = paired_equivalence(
                sub,
                cqa=cqa,
                test_site=test_site,
                reference_site=reference_site,
                margin=margin,
                k=k,
                alpha=alpha,
            )
        except InvalidInputError as exc:
            notes.append(f"the paired analysis was not possible: {exc.reason}")
    elif shared:
        notes.append(
            "the paired (split-apheresis) analysis needs a single reference site; "
            "name one to run it"
        )

    sentences = [
        _equivalence_sentence(cqa, test_site, reference_name, eq, unit, paired=False),
        _quality_range_sentence(cqa, test_site, reference_site, qr, unit),
    ]
    if se is not None:
        sentences.append(_site_effect_sentence(cqa, se, unit))
    if paired is not None:
        sentence = _equivalence_sentence(
            f"{cqa}, split apheresis ({paired.n_pairs} donors)",
            test_site,
            reference_name,
            paired,
            unit,
            paired=True,
        )
        if paired.unmatched:
            sentence += f"; {len(paired.unmatched)} unmatched lot(s) reported and excluded"
        sentences.append(sentence)
    return CqaComparison(
        cqa=cqa,
        unit=unit,
        equivalence=eq,
        quality_range=qr,
        site_effect=se,
        paired=paired,
        sentences=tuple(sentences),
        notes=tuple(notes),
    )


def compare_sites(
    frame: pd.DataFrame,
    *,
    test_site: str,
    reference_site: str | None = None,
    cqas: Sequence[str] | None = None,
    label: str,
    k: float = 1.5,
    margins: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    usevar: Usevar = "unequal",
    quality_range_k: float = 3.0,
    required_share: float = 0.9,
    units: Mapping[str, str] | None = None,
) -> ComparabilityResult:
    """Compare a test site with a reference site (or the pooled network), per CQA.

    For every CQA this runs :func:`equivalence` (TOST, margin ``k`` × reference SD
    unless ``margins`` gives one), :func:`quality_range` (reference mean ±
    ``quality_range_k`` SD, ``required_share`` of test lots inside),
    :func:`site_effect` (random site effect over every site with lots of the CQA)
    and, when a ``donor`` column links lots of the test and the reference site,
    :func:`paired_equivalence`. Each CQA gets its conclusions in words, e.g.
    ``"viability: HUB-B equivalent to HUB-A within ±4.1 % (margin 1.5 × reference
    SD); 90 % CI of the difference −1.2 to 0.8 %"``, and its caveats.

    Parameters
    ----------
    frame
        Long table ``lot, site, cqa, value`` (optionally ``donor``), one row per
        lot and CQA.
    test_site
        The site under assessment (e.g. a new point-of-care hub).
    reference_site
        The reference site; None pools every other site with lots of the CQA (when
        there is only one other site, that site is the reference).
    cqas
        The CQAs to compare, in this order; None takes all, in order of appearance.
    label
        Provenance of the data (e.g. ``"SYNTHETIC: ..."`` or the source file and its
        hash); carried into every output and the report.
    k
        Multiple of the reference SD that sets the equivalence margin.
    margins
        Absolute margins per CQA (in the CQA's unit); they override ``k``.
    alpha
        Level of each one-sided test (1 - 2 alpha intervals) and of the
        likelihood-ratio test.
    usevar
        ``"unequal"`` (Welch, default) or ``"pooled"``.
    quality_range_k
        Multiple of the reference SD for the quality range.
    required_share
        Share of test lots that must lie inside the quality range.
    units
        Unit per CQA, used in the sentences and plots (e.g. ``{"viability": "%"}``).

    Returns
    -------
    ComparabilityResult
        One :class:`CqaComparison` per CQA; ``to_frame()`` gives the tidy table.

    Raises
    ------
    InvalidInputError
        A table that does not check out, an unknown site or CQA (the known ones are
        listed), the same site as test and reference, a CQA without test or
        reference lots, or options out of range.

    References
    ----------
    .. [1] Schuirmann DJ (1987). J Pharmacokinet Biopharm 15(6):657-680.
    .. [2] FDA (2019). Development of Therapeutic Protein Biosimilars: Comparative
       Analytical Assessment and Other Quality-Related Considerations. Draft guidance.
    .. [3] Self SG, Liang KY (1987). J Am Stat Assoc 82(398):605-610.
    .. [4] Chow SC, Liu JP (2009). Design and Analysis of Bioavailability and
       Bioequivalence Studies, 3rd ed. Chapman & Hall/CRC.
    """
    if not isinstance(label, str) or not label.strip():
        msg = "say where the data come from (e.g. 'SYNTHETIC: ...' or the source file)"
        raise InvalidInputError(msg, field="label")
    check_alpha(alpha)
    check_positive(k, field="k")
    check_positive(quality_range_k, field="quality_range_k")
    data = validate_frame(frame)
    sites = unique_in_order(data["site"])
    all_cqas = unique_in_order(data["cqa"])
    require_known(test_site, sites, what="test site", field="test_site")
    if reference_site is not None:
        require_known(reference_site, sites, what="reference site", field="reference_site")
        if reference_site == test_site:
            msg = f"test and reference site are both {test_site!r}"
            raise InvalidInputError(msg, field="reference_site")
        reference_sites = [reference_site]
    else:
        reference_sites = [s for s in sites if s != test_site]
        if not reference_sites:
            msg = f"the data have no site other than {test_site!r} to compare with"
            raise InvalidInputError(msg, field="reference_site")
        if len(reference_sites) == 1:  # a network of one other site is that site
            reference_site = reference_sites[0]
    chosen = list(all_cqas) if cqas is None else list(dict.fromkeys(cqas))
    if not chosen:
        msg = "name at least one cqa"
        raise InvalidInputError(msg, field="cqa")
    for cqa in chosen:
        require_known(cqa, all_cqas, what="cqa", field="cqa")
    margins = dict(margins or {})
    units = dict(units or {})
    for name in (*margins, *units):
        if name not in chosen:
            msg = f"a margin or unit is given for {name!r}, which is not among the CQAs compared"
            raise InvalidInputError(msg, field="cqa")

    reference_name = (
        reference_site
        if reference_site is not None
        else f"the pooled network ({', '.join(reference_sites)})"
    )
    comparisons = tuple(
        _compare_one(
            data,
            cqa,
            test_site=test_site,
            reference_site=reference_site,
            reference_sites=reference_sites,
            reference_name=reference_name,
            margin=margins.get(cqa),
            k=k,
            alpha=alpha,
            usevar=usevar,
            quality_range_k=quality_range_k,
            required_share=required_share,
            unit=units.get(cqa, ""),
        )
        for cqa in chosen
    )
    params = {
        "k": float(k),
        "margins": {c: float(m) for c, m in margins.items()},
        "alpha": float(alpha),
        "usevar": usevar,
        "quality_range_k": float(quality_range_k),
        "required_share": float(required_share),
        "units": units,
        "vein2vein_version": vein2vein.__version__,
    }
    return ComparabilityResult(
        label=label.strip(),
        test_site=test_site,
        reference_site=reference_site,
        reference_sites=tuple(reference_sites),
        comparisons=comparisons,
        params=params,
        data=data[data["cqa"].isin(chosen)].reset_index(drop=True),
    )
