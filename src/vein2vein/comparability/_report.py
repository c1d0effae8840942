"""The comparability report: one self-contained HTML page with its plots embedded.

Plots are drawn with matplotlib's object API (no pyplot state, no GUI backend)
into PNGs that the page embeds as base64 data URIs, so the report is a single
file that can be attached to a change control or a regulatory submission.
Every figure and the page carry the data's provenance label.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

import vein2vein
from vein2vein.errors import InvalidInputError
from vein2vein.support import figure_data_uri, render

from ._compare import ComparabilityResult, CqaComparison, report_number
from ._equivalence import EquivalenceResult
from ._paired import PairedEquivalenceResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["render_report_html", "write_report"]

REPORT_NAME: Final = "comparability-report.html"
_TEST_COLOUR: Final = "#d95f02"
_REFERENCE_COLOUR: Final = "#1b6ca8"
_OTHER_COLOUR: Final = "#9a9a9a"
_PASS_COLOUR: Final = "#1a7f37"
_FAIL_COLOUR: Final = "#b42318"
_BAND_COLOUR: Final = "#2ca25f"


def _footnote(fig: Figure, label: str) -> None:
    # A figure-level x label: the constrained layout makes room for it below the axes.
    fig.supxlabel(label, fontsize=7, color="#555555")


def _site_order(result: ComparabilityResult, present: list[str]) -> list[str]:
    first = [result.test_site, *result.reference_sites]
    return [s for s in first if s in present] + [s for s in present if s not in first]


def _strip_plot(result: ComparabilityResult, comparison: CqaComparison) -> str:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    data = result.data[result.data["cqa"] == comparison.cqa]
    sites = _site_order(result, list(dict.fromkeys(data["site"])))
    qr = comparison.quality_range
    fig = Figure(figsize=(8.5, 4.0), layout="constrained")
    ax: Axes = fig.subplots()
    ax.axhspan(qr.low, qr.high, color=_BAND_COLOUR, alpha=0.12, zorder=0)
    ax.axhline(qr.reference_mean, color=_BAND_COLOUR, linestyle="--", linewidth=1, zorder=1)
    rng = np.random.default_rng(0)  # fixed jitter: the same data give the same picture
    values = [data.loc[data["site"] == s, "value"].to_numpy() for s in sites]
    ax.boxplot(
        values,
        positions=range(len(sites)),
        widths=0.5,
        showfliers=False,
        medianprops={"color": "black"},
    )
    for i, (site, v) in enumerate(zip(sites, values, strict=True)):
        colour = (
            _TEST_COLOUR
            if site == result.test_site
            else _REFERENCE_COLOUR
            if site in result.reference_sites
            else _OTHER_COLOUR
        )
        ax.scatter(i + rng.uniform(-0.15, 0.15, v.size), v, s=16, color=colour, zorder=3)
    ticks = [f"{s}\n(n={v.size})" for s, v in zip(sites, values, strict=True)]
    ax.set_xticks(range(len(sites)), ticks)
    unit = f" ({comparison.unit})" if comparison.unit else ""
    ax.set_ylabel(f"{comparison.cqa}{unit}")
    ax.set_title(f"{comparison.cqa} by site", fontsize=11)
    ax.legend(
        handles=[
            Patch(color=_TEST_COLOUR, label=f"test: {result.test_site}"),
            Patch(color=_REFERENCE_COLOUR, label=f"reference: {result.reference_name}"),
            Patch(
                color=_BAND_COLOUR,
                alpha=0.3,
                label=f"quality range (reference mean ± {qr.k:g} SD)",
            ),
        ],
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    _footnote(fig, result.label)
    return figure_data_uri(fig)


def _forest_row(
    name: str, estimate: float, res: EquivalenceResult | PairedEquivalenceResult, unit: str
) -> dict[str, Any]:
    return {
        "name": name,
        "estimate": estimate,
        "low": res.ci_low,
        "high": res.ci_high,
        "margin": res.margin,
        "equivalent": res.equivalent,
        "unit": unit,
        "level": res.ci_level,
    }


def _forest_rows(result: ComparabilityResult) -> list[dict[str, Any]]:
    rows = []
    for c in result.comparisons:
        rows.append(_forest_row(c.cqa, c.equivalence.difference, c.equivalence, c.unit))
        if c.paired is not None:
            rows.append(
                _forest_row(f"{c.cqa} (paired)", c.paired.mean_difference, c.paired, c.unit)
            )
    return rows


def _forest_plot(result: ComparabilityResult) -> str:
    from matplotlib.figure import Figure

    rows = _forest_rows(result)
    fig = Figure(figsize=(8.0, 1.2 + 0.55 * len(rows)), layout="constrained")
    ax: Axes = fig.subplots()
    ax.axvspan(-1, 1, color=_BAND_COLOUR, alpha=0.08, zorder=0)
    for x in (-1, 1):
        ax.axvline(x, color=_BAND_COLOUR, linestyle="--", linewidth=1)
    ax.axvline(0, color="#444444", linewidth=0.8)
    widest = 1.0
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        m = row["margin"]
        low, high, est = row["low"] / m, row["high"] / m, row["estimate"] / m
        widest = max(widest, abs(low), abs(high))
        colour = _PASS_COLOUR if row["equivalent"] else _FAIL_COLOUR
        ax.plot([low, high], [y, y], color=colour, linewidth=2.5, solid_capstyle="butt")
        ax.plot([est], [y], marker="o", color=colour, markersize=6)
        unit = f" {row['unit']}" if row["unit"] else ""
        ax.annotate(
            f"{report_number(row['estimate'], m)} [{report_number(row['low'], m)}, "
            f"{report_number(row['high'], m)}] vs ±{report_number(m)}{unit}",
            xy=(1.02, y),
            xycoords=("axes fraction", "data"),
            fontsize=8,
            va="center",
        )
    ax.set_yticks(range(len(rows)), [r["name"] for r in reversed(rows)])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(-1.15 * widest, 1.15 * widest)
    level = f"{100 * rows[0]['level']:g} %" if rows else ""
    ax.set_xlabel(
        f"mean difference ({result.test_site} − reference) with {level} CI, "
        "in units of the margin (dashed lines: ±margin)"
    )
    ax.set_title(
        f"{result.test_site} vs {result.reference_name}: green = equivalent, "
        "red = not shown equivalent",
        fontsize=10,
    )
    _footnote(fig, result.label)
    return figure_data_uri(fig)


def render_report_html(result: ComparabilityResult, *, generated_at: datetime | None = None) -> str:
    """The comparability report as one self-contained, autoescaped HTML document.

    The page states the provenance label first, then the parameters, the
    conclusion sentences per CQA, a forest plot of the mean differences with their
    1 - 2 alpha intervals against the ±margins, and, per CQA, a box-and-strip plot
    by site with the quality-range band, the numbers of each analysis, the
    split-apheresis pairs and the lots that could not be paired, and every caveat.

    Parameters
    ----------
    result
        The output of :func:`compare_sites`.
    generated_at
        The time stamped on the report (default: now, UTC).

    Returns
    -------
    str
        The HTML text.
    """
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    sections = [
        {"c": c, "plot": _strip_plot(result, c), "pairs": None if c.paired is None else c.paired}
        for c in result.comparisons
    ]
    return render(
        "vein2vein.comparability:report.html.j2",
        result=result,
        sections=sections,
        forest=_forest_plot(result) if result.comparisons else None,
        generated=stamp.strftime("%Y-%m-%d %H:%M:%S UTC"),
        version=vein2vein.__version__,
        synthetic="SYNTHETIC" in result.label.upper(),
    )


def write_report(result: ComparabilityResult, out_dir: str | Path) -> Path:
    """Write the HTML comparability report into ``out_dir`` and return its path.

    The file is ``out_dir/comparability-report.html`` (see :func:`render_report_html`);
    the plots are embedded, so the one file is the whole report. ``out_dir`` is
    created if needed; an existing report there is replaced.

    Parameters
    ----------
    result
        The output of :func:`compare_sites`.
    out_dir
        The directory to write into.

    Returns
    -------
    pathlib.Path
        The path of the HTML file.

    Raises
    ------
    InvalidInputError
        ``out_dir`` exists and is not a directory, or cannot be created.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        msg = f"{out} exists and is not a directory"
        raise InvalidInputError(msg, field="out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create {out}: {exc.strerror or exc}"
        raise InvalidInputError(msg, field="out") from None
    path = out / REPORT_NAME
    path.write_text(render_report_html(result), encoding="utf-8")
    return path
