"""The HTML report: every conclusion in words, the plots, the provenance label, escaping."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape

from vein2vein.comparability import compare_sites, render_report_html, write_report
from vein2vein.errors import InvalidInputError

PNG = b"\x89PNG\r\n\x1a\n"


def _result(network: Callable[..., pd.DataFrame], split: Callable[..., pd.DataFrame], label: str):
    frame = network(sites=("HUB-A", "HUB-B", "HUB-C"), lots_per_site=12, shift_sd={"HUB-B": 2.0})
    pairs = split(donors=8).assign(cqa="ifn_gamma")
    frame = pd.concat([frame, pairs.assign(lot=pairs["lot"] + "-S")], ignore_index=True)
    return compare_sites(
        frame,
        test_site="HUB-B",
        reference_site="HUB-A",
        label=label,
        units={"viability": "%", "ifn_gamma": "pg/mL"},
    )


def test_report_states_each_conclusion_with_plots_and_label(
    tmp_path: Path, network, split_apheresis, label: str
) -> None:
    res = _result(network, split_apheresis, label)
    path = write_report(res, tmp_path / "out")
    assert path == tmp_path / "out" / "comparability-report.html"
    html = path.read_text(encoding="utf-8")
    for comparison in res.comparisons:
        for sentence in comparison.sentences:
            assert str(escape(sentence)) in html, sentence
        for caveat in comparison.caveats:
            assert str(escape(caveat)) in html
    assert res["ifn_gamma"].paired is not None  # the split-apheresis section is there
    assert "Split apheresis: paired equivalence (8 donors)" in html
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == len(res.comparisons) + 1  # one per CQA and the forest plot
    assert all(base64.b64decode(i).startswith(PNG) for i in images)
    assert html.count(str(escape(label))) >= 2  # top and bottom of the page
    assert 'class="label synthetic"' in html
    assert "not shown equivalent" in html


def test_label_and_names_are_escaped(tmp_path: Path, network) -> None:
    frame = network(sites=("HUB-A", "HUB-B"), lots_per_site=6, cqas={"<b>vcn</b>": (2.0, 0.4)})
    res = compare_sites(frame, test_site="HUB-B", label="SYNTHETIC <script>alert(1)</script>")
    html = render_report_html(res, generated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>vcn</b>" not in html and "&lt;b&gt;vcn&lt;/b&gt;" in html
    assert "Generated 2026-01-02 03:04:05 UTC" in html


def test_out_must_be_a_directory(tmp_path: Path, network, label: str) -> None:
    res = compare_sites(
        network(sites=("HUB-A", "HUB-B"), lots_per_site=4), test_site="HUB-B", label=label
    )
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidInputError) as info:
        write_report(res, blocker)
    assert info.value.field == "out"
