"""Capability indices and their confidence bounds, against Montgomery's worked numbers and
against the formulas recomputed independently here.

References: Montgomery, D. C. (2009), Introduction to Statistical Quality Control, 6th ed.,
Wiley, section 8.3.5 (the chi-square interval on Cp and Bissell's
interval on Cpk); Bissell, A. F. (1990), Applied Statistics 39(3), 331-340.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from scipy import stats
from typer.main import get_command

from vein2vein.cli._process import register
from vein2vein.errors import InvalidInputError
from vein2vein.process import (
    capability,
    capability_by,
    chart_constants,
    cp_interval,
    cpk_interval,
)

PISTONRINGS = Path(__file__).parents[2].parent / "shared" / "data" / "spc" / "pistonrings.csv"


def _exact_sample(n: int, mean: float, sd: float, seed: int = 0) -> np.ndarray:
    """n values whose sample mean and standard deviation (ddof=1) are exactly as given."""
    z = np.random.default_rng(seed).normal(size=n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


# ---------------------------------------------------------------- Montgomery's worked numbers


def test_cp_interval_montgomery_section_8_3_5() -> None:
    """USL 62, LSL 38, n = 20, s = 1.75: Cp = 2.29 and 1.57 <= Cp <= 3.01 (95 %)."""
    x = _exact_sample(20, 50.0, 1.75)
    res = capability(x, lsl=38.0, usl=62.0)
    pp = res["Pp"]  # the sample standard deviation: Montgomery's Cp-hat in this example
    assert round(pp.value, 2) == 2.29
    # The book multiplies the rounded 2.29 by sqrt(8.91 / 19) and sqrt(32.85 / 19).
    low, high, _ = cp_interval(2.29, 20)
    assert (round(low, 2), round(high, 2)) == (1.57, 3.01)
    # Unrounded: 2.2857 gives 1.565 and 3.006.
    assert (round(pp.lower, 3), round(pp.upper, 3)) == (1.565, 3.006)
    assert cp_interval(24 / (6 * 1.75), 20)[:2] == pytest.approx((pp.lower, pp.upper))


def test_cpk_interval_montgomery_section_8_3_5() -> None:
    """n = 20, Cpk-hat = 1.33: 0.88 <= Cpk <= 1.78 (95 %), Bissell's approximation."""
    low, high, _ = cpk_interval(1.33, 20)
    assert (round(low, 2), round(high, 2)) == (0.88, 1.78)
    # Montgomery's multiplicative form of the same interval.
    half = 1.96 * math.sqrt(1 / (9 * 20 * 1.33**2) + 1 / (2 * 19))
    assert low == pytest.approx(1.33 * (1 - half), abs=1e-4)
    assert high == pytest.approx(1.33 * (1 + half), abs=1e-4)


def test_one_sided_lower_index_montgomery_bottle_strength() -> None:
    """Lower limit only: x-bar 264, s 32, LSL 200 gives Cpl = (264 - 200) / (3 * 32) = 0.67."""
    res = capability(_exact_sample(40, 264.0, 32.0), lsl=200.0)
    assert [i.name for i in res.indices] == ["Cpl", "Ppl"]
    assert round(res["Ppl"].value, 2) == 0.67


def test_piston_ring_capability_from_r_bar() -> None:
    if not PISTONRINGS.exists():
        pytest.skip(f"shared data folder missing: {PISTONRINGS}")
    data = pd.read_csv(PISTONRINGS)
    phase1 = data[data.phase == "I"]
    res = capability(phase1["value"], lsl=73.95, usl=74.05, subgroups=phase1["subgroup"])
    r_bar = phase1.groupby("subgroup")["value"].agg(np.ptp).mean()
    assert res.within_method == "Rbar/d2" and res.subgroup_size == 5
    assert res.sigma_within == pytest.approx(r_bar / chart_constants(5).d2)
    assert res["Cp"].value == pytest.approx(0.10 / (6 * res.sigma_within))
    # Montgomery (section 6.2.1) prints sigma-hat = 0.023 / 2.326 = 0.0099 and Cp = 1.68;
    # the unrounded R-bar (0.02276) gives 1.70.
    assert round(0.10 / (6 * 0.0099), 2) == 1.68
    assert round(res["Cp"].value, 2) == 1.70


# ---------------------------------------------------------------- formulas recomputed here


def test_intervals_agree_with_an_independent_recomputation() -> None:
    x = np.random.default_rng(42).normal(10.0, 0.5, size=35)
    lsl, usl, conf = 8.0, 12.5, 0.90
    res = capability(x, lsl=lsl, usl=usl, confidence=conf)
    n, alpha = x.size, 1 - conf
    mean, s = x.mean(), x.std(ddof=1)
    sw = np.abs(np.diff(x)).mean() / (2 / math.sqrt(math.pi))
    assert res.sigma_within == pytest.approx(sw)
    assert res.sigma_overall == pytest.approx(s)
    for name, sigma in (("Cp", sw), ("Pp", s)):
        value = (usl - lsl) / (6 * sigma)
        est = res[name]
        assert est.value == pytest.approx(value)
        assert est.lower == pytest.approx(
            value * math.sqrt(stats.chi2.ppf(alpha / 2, n - 1) / (n - 1))
        )
        assert est.upper == pytest.approx(
            value * math.sqrt(stats.chi2.ppf(1 - alpha / 2, n - 1) / (n - 1))
        )
        assert est.lower_bound == pytest.approx(
            value * math.sqrt(stats.chi2.ppf(alpha, n - 1) / (n - 1))
        )
        assert est.method.startswith("chi-square")
    for name, sigma in (("Cpk", sw), ("Ppk", s)):
        value = min(usl - mean, mean - lsl) / (3 * sigma)
        se = math.sqrt(1 / (9 * n) + value**2 / (2 * (n - 1)))
        est = res[name]
        assert est.value == pytest.approx(value)
        assert est.lower == pytest.approx(value - stats.norm.ppf(1 - alpha / 2) * se)
        assert est.upper == pytest.approx(value + stats.norm.ppf(1 - alpha / 2) * se)
        assert est.lower_bound == pytest.approx(value - stats.norm.ppf(1 - alpha) * se)
        assert "Bissell" in est.method


def test_upper_limit_only_gives_cpu() -> None:
    vcn = np.array([1.8, 2.1, 2.4, 1.9, 2.2, 2.6, 2.0, 2.3, 1.7, 2.5])  # copies per cell
    res = capability(vcn, usl=5.0)
    assert [i.name for i in res.indices] == ["Cpu", "Ppu"]
    assert res["Ppu"].value == pytest.approx((5.0 - vcn.mean()) / (3 * vcn.std(ddof=1)))
    assert res.lsl is None and res.usl == 5.0
    low, high, bound = cpk_interval(res["Cpu"].value, 10)
    assert (res["Cpu"].lower, res["Cpu"].upper, res["Cpu"].lower_bound) == (low, high, bound)


def test_result_serialises() -> None:
    res = capability([71.0, 74.0, 72.5, 75.0, 73.0, 74.5], lsl=65.0, usl=90.0)
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert [i["name"] for i in payload["indices"]] == ["Cp", "Cpk", "Pp", "Ppk"]
    assert payload["within_method"] == "MRbar/d2" and payload["n"] == 6
    frame = res.to_frame()
    assert list(frame["index"]) == ["Cp", "Cpk", "Pp", "Ppk"]
    assert set(frame["sigma"]) == {"within", "overall"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"values": [5.0], "lsl": 1.0}, "values"),
        ({"values": [5.0, math.nan, 4.0], "lsl": 1.0}, "values"),
        ({"values": [5.0, math.inf, 4.0], "lsl": 1.0}, "values"),
        ({"values": [5.0, 6.0, 4.0]}, "usl"),
        ({"values": [5.0, 6.0, 4.0], "lsl": 7.0, "usl": 3.0}, "lsl"),
        ({"values": [5.0, 6.0, 4.0], "lsl": math.nan}, "lsl"),
        ({"values": [5.0, 6.0, 4.0], "lsl": 1.0, "confidence": 1.5}, "confidence"),
        ({"values": [5.0, 5.0, 5.0], "lsl": 1.0}, "values"),
        ({"values": [5.0, 6.0, 4.0], "lsl": 1.0, "subgroups": [1, 1, 2]}, "subgroups"),
        ({"values": [5.0, 6.0, 4.0], "lsl": 1.0, "subgroups": [1, 2]}, "subgroups"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    values = kwargs.pop("values")
    with pytest.raises(InvalidInputError) as info:
        capability(values, **kwargs)
    assert info.value.field == field


# ---------------------------------------------------------------- per site and network


def _sites() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    a = rng.normal(80.0, 3.0, 15)
    b = rng.normal(84.0, 2.0, 12)
    return pd.DataFrame({"site": ["HUB-A"] * 15 + ["HUB-B"] * 12, "value": np.r_[a, b]})


def test_capability_by_site_and_network() -> None:
    frame = _sites()
    table = capability_by(frame, by="site", lsl=70.0)
    assert list(table["site"]) == ["HUB-A", "HUB-B", "network"]
    assert list(table["n"]) == [15, 12, 27]
    for site in ("HUB-A", "HUB-B"):
        alone = capability(frame.loc[frame.site == site, "value"], lsl=70.0)
        row = table.set_index("site").loc[site]
        assert row["Cpl"] == pytest.approx(alone["Cpl"].value)
        assert row["Ppl_lower_bound"] == pytest.approx(alone["Ppl"].lower_bound)
    # Network: moving ranges inside each site only (none across the HUB-A/HUB-B seam).
    mrs = np.r_[np.abs(np.diff(frame.value[:15])), np.abs(np.diff(frame.value[15:]))]
    network = table.set_index("site").loc["network"]
    assert network["sigma_within"] == pytest.approx(mrs.mean() / chart_constants(2).d2)
    assert network["sigma_overall"] == pytest.approx(frame.value.std(ddof=1))
    assert "Cp" not in table.columns  # lower limit only


def test_capability_by_refuses_small_groups_and_missing_columns() -> None:
    frame = pd.concat([_sites(), pd.DataFrame({"site": ["HUB-C"], "value": [81.0]})])
    with pytest.raises(InvalidInputError, match="HUB-C") as info:
        capability_by(frame, lsl=70.0)
    assert info.value.field == "site"
    with pytest.raises(InvalidInputError) as info:
        capability_by(_sites(), by="hub", lsl=70.0)
    assert info.value.field == "hub"


# ---------------------------------------------------------------- CLI: process capability


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    app = typer.Typer()
    register(app)
    get_command(app).main(args=["process", "capability", *args], standalone_mode=False)
    return capsys.readouterr().out


def test_cli_capability(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "viability.csv"
    _sites().to_csv(data, index=False)
    out = json.loads(_cli(capsys, str(data), "--lsl", "70", "--json"))
    assert [i["name"] for i in out["indices"]] == ["Cpl", "Ppl"]
    assert out["n"] == 27
    by = json.loads(_cli(capsys, str(data), "--lsl", "70", "--usl", "95", "--by", "site", "--json"))
    assert [r["site"] for r in by["rows"]] == ["HUB-A", "HUB-B", "network"]
    assert {"Cp", "Cpk", "Pp", "Ppk", "Cpk_lower_bound"} <= set(by["rows"][0])
    text = _cli(capsys, str(data), "--lsl", "70", "--usl", "95")
    assert "Cpk" in text and "MRbar/d2" in text
    text = _cli(capsys, str(data), "--lsl", "70", "--by", "site")
    assert "network" in text and "Cpl" in text


def test_cli_capability_with_subgroups(capsys: pytest.CaptureFixture[str]) -> None:
    if not PISTONRINGS.exists():
        pytest.skip(f"shared data folder missing: {PISTONRINGS}")
    out = json.loads(_cli(capsys, str(PISTONRINGS), "--lsl", "73.95", "--usl", "74.05", "--json"))
    assert out["within_method"] == "Rbar/d2" and out["subgroup_size"] == 5


def test_cli_capability_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "one.csv"
    data.write_text("value,site\n81.0,HUB-A\n")
    with pytest.raises(InvalidInputError) as info:
        _cli(capsys, str(data), "--lsl", "70")
    assert (info.value.file, info.value.field) == (str(data), "values")
    with pytest.raises(InvalidInputError) as info:
        _cli(capsys, str(data), "--lsl", "70", "--by", "lot")
    assert info.value.field == "by"
