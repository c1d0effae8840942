"""``comparability``: whether a test site's product equals the reference site's or network's."""

from __future__ import annotations

import hashlib
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InvalidInputError
from ._common import console, database, emit_json

comparability_app = typer.Typer(
    help="Multi-site comparability of critical quality attributes (TOST, quality range, "
    "random site effect, split-apheresis pairs).",
    no_args_is_help=True,
)


def _pairs(values: list[str] | None, *, option: str, numeric: bool) -> dict[str, str]:
    """``["viability=5", ...]`` as ``{"viability": "5"}``; values checked as numbers if asked."""
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            msg = f"{item!r} is not CQA=VALUE"
            raise InvalidInputError(msg, field=option)
        if numeric:
            try:
                float(value)
            except ValueError:
                msg = f"{item!r}: {value.strip()!r} is not a number"
                raise InvalidInputError(msg, field=option) from None
        out[name.strip()] = value.strip()
    return out


def _default_label(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"source: {path.name} (sha256 {digest})"


@comparability_app.command("report")
def comparability_report(
    data: Path | None = typer.Argument(
        None, help="CSV: lot,site,cqa,value[,donor]. Default: the system of record."
    ),
    cqa: list[str] | None = typer.Option(
        None, "--cqa", help="CQA to compare (repeat for several; default: all in the file)."
    ),
    test: str = typer.Option(..., "--test", help="The test site."),
    reference: str | None = typer.Option(
        None, "--reference", help="The reference site (default: the pooled network)."
    ),
    k: float = typer.Option(1.5, "--k", help="Equivalence margin as k x reference SD."),
    margin: list[str] | None = typer.Option(
        None, "--margin", help="Absolute margin for one CQA, CQA=VALUE (overrides --k)."
    ),
    unit: list[str] | None = typer.Option(None, "--unit", help="Unit of a CQA, CQA=UNIT."),
    alpha: float = typer.Option(0.05, "--alpha", help="Level of each one-sided test."),
    quality_range_k: float = typer.Option(
        3.0, "--quality-range-k", help="Quality range as reference mean +/- k SD."
    ),
    required_share: float = typer.Option(
        0.9, "--required-share", help="Share of test lots required inside the quality range."
    ),
    label: str | None = typer.Option(
        None, "--label", help="Provenance label (default: file name and SHA-256)."
    ),
    out: Path = typer.Option(..., "--out", help="Directory for the HTML report."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Compare a test site with a reference per CQA and write the HTML report.

    Exits 0 when the analysis ran, whatever it concluded; 2 on bad input (the
    message names the file, line and column, or the unknown site or CQA and the
    known ones).
    """
    from ..comparability import (
        compare_sites,
        lots_from_records,
        read_comparability_csv,
        write_report,
    )

    if data is not None:
        frame = read_comparability_csv(data)
        provenance = _default_label(data)
    else:
        db = database()
        with db.read() as session:
            frame = lots_from_records(session)
        if frame.empty:
            msg = "the system of record holds no numeric release results to compare"
            raise InvalidInputError(msg, field="data")
        units = dict(zip(frame["cqa"], frame["unit"].fillna(""), strict=True))
        unit = unit or [f"{c}={u}" for c, u in units.items() if u]
        provenance = f"release results in {db!r}"
    margins = {name: float(v) for name, v in _pairs(margin, option="margin", numeric=True).items()}
    result = compare_sites(
        frame,
        test_site=test,
        reference_site=reference,
        cqas=cqa or None,
        label=label if label is not None else provenance,
        k=k,
        margins=margins,
        alpha=alpha,
        quality_range_k=quality_range_k,
        required_share=required_share,
        units=_pairs(unit, option="unit", numeric=False),
    )
    path = write_report(result, out)
    if as_json:
        emit_json({"report": str(path), **result.to_dict()})
        return
    table = Table(
        "CQA",
        "equivalence",
        "quality range",
        "site effect",
        "paired",
        title=f"{escape(result.test_site)} vs {escape(result.reference_name)}",
    )
    for c in result.comparisons:
        eq_style = "green" if c.equivalence.equivalent else "bold red"
        qr_style = "green" if c.quality_range.meets else "bold red"
        table.add_row(
            escape(c.cqa),
            f"[{eq_style}]{c.equivalence.conclusion}[/]",
            f"[{qr_style}]{c.quality_range.n_inside}/{c.quality_range.n_test} inside[/]",
            escape(c.site_effect.conclusion) if c.site_effect else "not fitted",
            escape(c.paired.conclusion) if c.paired else "-",
        )
    console.print(escape(result.label), style="bold")
    console.print(table)
    for c in result.comparisons:
        console.print(escape(c.conclusion))
        if c.caveats:
            console.print(f"  {len(c.caveats)} caveat(s), see the report", style="yellow")
    console.print(f"report written to {escape(str(path))}")


def register(app: typer.Typer) -> None:
    """Attach the ``comparability`` command group to the main app."""
    app.add_typer(comparability_app, name="comparability")
