"""Multi-site comparability: whether a dose made at hub B equals one made at hub A.

For each critical quality attribute (CQA: viability, CAR expression, vector copy
number, CAR+ dose, IFN-γ release, ...) a test site is compared with a reference
site or with the pooled network, on a plain long table ``lot, site, cqa, value``
(and ``donor`` for split-apheresis pairs):

- :func:`equivalence`: two one-sided tests (TOST) of the mean difference against a
  margin (default 1.5 × reference SD), with its 90 % interval;
- :func:`quality_range`: the share of test lots inside the reference mean ± 3 SD;
- :func:`site_effect`: a linear mixed model with a random site effect, its
  variance components, ICC and a boundary-corrected likelihood-ratio test;
- :func:`paired_equivalence`: TOST on within-donor differences of split aphereses,
  with every lot that cannot be paired reported;
- :func:`compare_sites`: all of these per CQA, with conclusions in words, and
  :func:`write_report` for the HTML report with plots.

:func:`read_comparability_csv` reads the table from CSV; the analyses themselves
never read files or the database.
"""

from __future__ import annotations

from ._compare import ComparabilityResult, CqaComparison, compare_sites
from ._equivalence import EquivalenceResult, equivalence
from ._io import read_comparability_csv
from ._mixed import SiteEffectResult, site_effect
from ._paired import PairedEquivalenceResult, PairedLots, UnmatchedLot, paired_equivalence
from ._quality_range import QualityRangeResult, quality_range
from ._records import lots_from_records
from ._report import render_report_html, write_report

__all__ = [
    "ComparabilityResult",
    "CqaComparison",
    "EquivalenceResult",
    "PairedEquivalenceResult",
    "PairedLots",
    "QualityRangeResult",
    "SiteEffectResult",
    "UnmatchedLot",
    "compare_sites",
    "equivalence",
    "lots_from_records",
    "paired_equivalence",
    "quality_range",
    "read_comparability_csv",
    "render_report_html",
    "site_effect",
    "write_report",
]
