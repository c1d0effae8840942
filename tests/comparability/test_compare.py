"""compare_sites on a SYNTHETIC network: the verdicts, the sentences, the tidy table."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pandas as pd
import pytest

from vein2vein.comparability import compare_sites
from vein2vein.comparability._compare import report_number
from vein2vein.errors import InvalidInputError

Network = Callable[..., pd.DataFrame]

SENTENCE = re.compile(
    r"^viability: HUB-B (equivalent|not shown equivalent) to HUB-A within ±\d+\.\d %"
    r" \(margin 1\.5 × reference SD\); 90 % CI of the difference −?\d+\.\d to −?\d+\.\d %$"
)


def test_a_site_shifted_by_two_sd_is_not_equivalent_an_unshifted_one_is(
    network: Network, label: str
) -> None:
    frame = network(sites=("HUB-A", "HUB-B", "HUB-C"), lots_per_site=30, shift_sd={"HUB-C": 2.0})
    units = {"viability": "%", "car_expression": "%", "vcn": "copies/cell"}
    same = compare_sites(frame, test_site="HUB-B", reference_site="HUB-A", label=label, units=units)
    shifted = compare_sites(
        frame, test_site="HUB-C", reference_site="HUB-A", label=label, units=units
    )
    for cqa in ("viability", "car_expression", "vcn"):
        assert same[cqa].equivalence.conclusion == "equivalent", same[cqa].conclusion
        assert shifted[cqa].equivalence.conclusion == "not shown equivalent"
        # A 2 SD shift puts the estimate, and the CI's upper end, beyond the 1.5 SD margin.
        eq = shifted[cqa].equivalence
        assert eq.ci_high > eq.difference > eq.margin
        assert same[cqa].quality_range.meets
    assert SENTENCE.match(same["viability"].conclusion), same["viability"].conclusion
    assert same.label == label and same.reference_name == "HUB-A"


def test_the_sentence_states_margin_and_interval_as_rounded(network: Network, label: str) -> None:
    frame = network(sites=("HUB-A", "HUB-B"), lots_per_site=30)
    res = compare_sites(
        frame,
        test_site="HUB-B",
        reference_site="HUB-A",
        cqas=["viability"],
        label=label,
        units={"viability": "%"},
    )
    eq = res["viability"].equivalence
    m = eq.margin
    expected = (
        f"viability: HUB-B equivalent to HUB-A within ±{m:.1f} % (margin 1.5 × reference SD); "
        f"90 % CI of the difference {eq.ci_low:.1f} to {eq.ci_high:.1f} %"
    )
    expected = expected.replace("difference -", "difference −").replace(" to -", " to −")
    assert res.conclusions == {"viability": expected}
    qr = res["viability"].quality_range
    assert res["viability"].sentences[1].startswith(f"viability: {qr.n_inside} of 30 HUB-B lots (")
    assert res["viability"].sentences[1].endswith("90 % required: met")
    assert res["viability"].sentences[2].startswith("viability: random site effect over 2 sites")


def test_pooled_network_reference(network: Network, label: str) -> None:
    frame = network(sites=("HUB-A", "HUB-B", "HUB-C", "HUB-D"), lots_per_site=12)
    res = compare_sites(frame, test_site="HUB-D", label=label, cqas=["vcn"])
    assert res.reference_site is None
    assert res.reference_sites == ("HUB-A", "HUB-B", "HUB-C")
    assert res.reference_name == "the pooled network (HUB-A, HUB-B, HUB-C)"
    eq = res["vcn"].equivalence
    assert (eq.n_test, eq.n_reference) == (12, 36)
    assert any("pools 3 sites" in c for c in res["vcn"].caveats)
    assert res["vcn"].site_effect is not None and res["vcn"].site_effect.n_sites == 4
    assert "to the pooled network (HUB-A, HUB-B, HUB-C) within" in res["vcn"].conclusion
    assert "(pooled network mean ± 3 SD)" in res["vcn"].sentences[1]
    # A "network" of one other site is that site.
    two = compare_sites(
        frame[frame["site"].isin(["HUB-A", "HUB-D"])], test_site="HUB-D", label=label
    )
    assert (two.reference_site, two.reference_name) == ("HUB-A", "HUB-A")
    assert "(HUB-A mean ± 3 SD)" in two["vcn"].sentences[1]


def test_tidy_table_and_json(network: Network, label: str) -> None:
    frame = network(sites=("HUB-A", "HUB-B", "HUB-C"), lots_per_site=10)
    res = compare_sites(frame, test_site="HUB-B", reference_site="HUB-A", label=label)
    table = res.to_frame()
    assert list(table.columns[:3]) == ["cqa", "unit", "analysis"]
    assert len(table) == 3 * 3  # equivalence, quality range, site effect per CQA
    assert set(table["analysis"]) == {"equivalence", "quality_range", "site_effect"}
    eq_rows = table[table["analysis"] == "equivalence"].set_index("cqa")
    assert eq_rows.loc["vcn", "estimate"] == res["vcn"].equivalence.difference
    assert eq_rows.loc["vcn", "sentence"] == res["vcn"].conclusion
    payload = res.to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["label"] == label
    assert [c["cqa"] for c in payload["cqas"]] == ["viability", "car_expression", "vcn"]
    assert payload["params"]["k"] == 1.5 and "vein2vein_version" in payload["params"]


def test_split_apheresis_runs_the_paired_analysis(
    split_apheresis: Callable[..., pd.DataFrame], label: str
) -> None:
    frame = split_apheresis(donors=12)
    frame = pd.concat(
        [
            frame,
            pd.DataFrame(
                [
                    {
                        "lot": "HUB-B-L77",
                        "site": "HUB-B",
                        "cqa": "viability",
                        "value": 85.0,
                        "donor": "D77",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    res = compare_sites(frame, test_site="HUB-B", reference_site="HUB-A", label=label)
    c = res["viability"]
    assert c.paired is not None and c.paired.n_pairs == 12
    assert [u.lot for u in c.paired.unmatched] == ["HUB-B-L77"]
    assert c.sentences[-1].startswith("viability, split apheresis (12 donors): HUB-B ")
    assert c.sentences[-1].endswith("1 unmatched lot(s) reported and excluded")
    assert any("treat those lots as independent" in n for n in c.notes)
    assert "paired_equivalence" in set(res.to_frame()["analysis"])
    hub_c = pd.DataFrame(
        [
            {"lot": f"HUB-C-{i}", "site": "HUB-C", "cqa": "viability", "value": 85.0 + i}
            for i in range(-2, 3)
        ]
    )
    pooled = compare_sites(pd.concat([frame, hub_c]), test_site="HUB-B", label=label)
    assert pooled.reference_sites == ("HUB-A", "HUB-C")
    assert pooled["viability"].paired is None
    assert any("needs a single reference site" in n for n in pooled["viability"].notes)


def test_margins_override_k_per_cqa(network: Network, label: str) -> None:
    frame = network(sites=("HUB-A", "HUB-B"), lots_per_site=12)
    res = compare_sites(
        frame, test_site="HUB-B", reference_site="HUB-A", label=label, margins={"viability": 5}
    )
    assert res["viability"].equivalence.margin == 5.0
    assert "(margin given)" in res["viability"].conclusion
    assert res["vcn"].equivalence.margin_source == "k_reference_sd"


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"test_site": "HUB-Z"}, r"unknown test site 'HUB-Z'; the data have 'HUB-A', 'HUB-B'"),
        ({"test_site": "HUB-B", "reference_site": "HUB-Y"}, r"unknown reference site 'HUB-Y'"),
        ({"test_site": "HUB-B", "reference_site": "HUB-B"}, r"both 'HUB-B'"),
        ({"test_site": "HUB-B", "cqas": ["ifn_gamma"]}, r"unknown cqa 'ifn_gamma'.*'vcn'"),
        ({"test_site": "HUB-B", "margins": {"ifn_gamma": 1}}, r"not among the CQAs"),
        ({"test_site": "HUB-B", "label": " "}, r"where the data come from"),
        ({"test_site": "HUB-B", "k": 0}, r"positive"),
    ],
)
def test_bad_input(network: Network, label: str, kwargs: dict, pattern: str) -> None:
    frame = network(sites=("HUB-A", "HUB-B"), lots_per_site=4)
    with pytest.raises(InvalidInputError, match=pattern):
        compare_sites(frame, **{"label": label, **kwargs})


def test_frame_checks(network: Network, label: str) -> None:
    frame = network(sites=("HUB-A", "HUB-B"), lots_per_site=4)
    dup = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(InvalidInputError, match="more than one value"):
        compare_sites(dup, test_site="HUB-B", label=label)
    moved = frame.copy()
    moved.loc[0, "site"] = "HUB-B"
    with pytest.raises(InvalidInputError, match="more than one site"):
        compare_sites(moved, test_site="HUB-B", label=label)
    bad = frame.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[3, "value"] = "n/a"
    with pytest.raises(InvalidInputError) as info:
        compare_sites(bad, test_site="HUB-B", label=label)
    assert info.value.field == "value"
    with pytest.raises(InvalidInputError) as info:
        compare_sites(frame.drop(columns="cqa"), test_site="HUB-B", label=label)
    assert info.value.field == "cqa"


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [
        (4.123, None, "4.1"),
        (-1.24, 4.1, "−1.2"),
        (0.81, 4.1, "0.8"),
        (0.0345, 0.12, "0.03"),
        (2.5e8, 5e7, "2.50e+08"),
        (float("nan"), None, "n/a"),
        (0.0, None, "0"),
    ],
)
def test_report_number(value: float, scale: float | None, text: str) -> None:
    assert report_number(value, scale) == text
