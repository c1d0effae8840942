"""EffTox design (Thall & Cook 2004) against the MD Anderson program, trialr and escalation.

Reference numbers: trialr's ``tests/testthat/test_stan_efftox.R`` (Brock) quotes the
posterior of the Thall et al. (2014) prostate cancer example (doses 1, 2, 4, 6.6, 10;
the priors of trialr's ``stan_efftox_demo``) as computed by the MD Anderson EffTox
program, and compares with tolerance 0.015 ("their app uses numerical methods ... so
there is variation"). Our importance sampler has Monte Carlo error about 0.002, so the
same tolerance is used.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from scipy import special  # type: ignore[import-untyped]

from vein2vein.errors import InvalidInputError
from vein2vein.invivo import DoseDecision, EffTox, EffToxFit, EffToxPriors
from vein2vein.invivo._efftox_model import codified_doses, log_likelihood, marginals
from vein2vein.invivo._outcomes import parse_outcomes

DOSES = (1.0, 2.0, 4.0, 6.6, 10.0)
DESIGN = EffTox(DOSES)
EPS = 0.015  # trialr's epsilon against the MD Anderson program


@cache
def fit(outcomes: str) -> EffToxFit:
    return DESIGN.fit(outcomes)


# trialr test 'Thall et al. (2014) model fits correctly to "1NNN 2ENN"' (MD Anderson app)
MDA_1 = {
    "prob_eff": (0.05, 0.26, 0.72, 0.86, 0.91),
    "prob_tox": (0.01, 0.01, 0.02, 0.06, 0.12),
    "utility": (-0.91, -0.47, 0.42, 0.64, 0.64),
    "prob_acc_eff": (0.01, 0.13, 0.80, 0.91, 0.94),
    "prob_acc_tox": (1.00, 1.00, 0.98, 0.93, 0.86),
}
# trialr test 'Thall et al. (2014) model fits correctly to "1NNN 2ENN 3ETB"'
MDA_2 = {
    "prob_eff": (0.06, 0.24, 0.71, 0.89, 0.94),
    "prob_tox": (0.02, 0.06, 0.41, 0.77, 0.87),
    "utility": (-0.92, -0.63, -0.24, -0.41, -0.47),
    "prob_acc_eff": (0.01, 0.07, 0.85, 0.97, 0.98),
    "prob_acc_tox": (1.00, 0.98, 0.36, 0.08, 0.05),
}


@pytest.mark.parametrize(
    ("outcomes", "expected"), [("1NNN 2ENN", MDA_1), ("1NNN 2ENN 3ETB", MDA_2)]
)
def test_posterior_matches_the_md_anderson_program(
    outcomes: str, expected: dict[str, tuple[float, ...]]
) -> None:
    result = fit(outcomes)
    for field, values in expected.items():
        got = np.array(getattr(result, field))
        assert np.all(np.abs(got - np.array(values)) < EPS), (field, got.round(3))
    assert result.method == "laplace-t"
    assert result.ess > 10_000
    assert result.mc_error < 0.005


def test_recommendations_after_the_mda_examples() -> None:
    # 1NNN 2ENN: doses 3 (in range) acceptable, the best in range -> escalate to 3.
    assert DESIGN.next_dose("1NNN 2ENN") == 3
    # 1NNN 2ENN 3ETB: only dose 3 acceptable (P(tox < 0.3) 0.36; dose 2 P(eff) 0.07).
    decision = DESIGN.decide("1NNN 2ENN 3ETB")
    assert (decision.next_dose, decision.action) == (3, "stay")
    assert decision.eliminated == (1, 2, 4, 5)


def test_trialr_vignette_1nne_2eeb() -> None:
    # trialr vignette "EffTox": "dose-level 3 is recommended ... dose-levels 4 and 5 are
    # unacceptable. This is because dose-level 3 has not yet been given."
    result = fit("1NNE 2EEB")
    assert result.recommended_dose == 3
    assert result.acceptable == (True, True, True, False, False)
    assert result.prob_acc_eff[3] > 0.1 and result.prob_acc_tox[3] > 0.1  # only untried
    assert max(result.utility[:3]) == result.utility[2]


def test_escalation_package_example_1nen_2nbt() -> None:
    # R escalation, tests/testthat/test_trialr_efftox.R: get_trialr_efftox with the same
    # parameters, fit '1NEN 2NBT' -> recommended_dose 3; fit '' -> recommended_dose 1.
    assert DESIGN.next_dose("1NEN 2NBT") == 3
    start = DESIGN.decide("")
    assert isinstance(start, DoseDecision)
    assert (start.next_dose, start.action, start.selected_dose) == (1, "start", None)
    assert DESIGN.fit("").recommended_dose == 1


def test_two_seeds_agree_within_monte_carlo_error() -> None:
    other = EffTox(DOSES, seed=12345).fit("1NNN 2ENN 3ETB")
    base = fit("1NNN 2ENN 3ETB")
    for field in ("prob_eff", "prob_tox", "prob_acc_eff", "prob_acc_tox"):
        diff = np.abs(np.array(getattr(base, field)) - np.array(getattr(other, field)))
        assert np.all(diff < 5 * max(base.mc_error, other.mc_error)), field
    assert base.recommended_dose == other.recommended_dose


def test_sampler_agrees_with_plain_importance_sampling_from_the_prior() -> None:
    # An independent estimate: 400,000 prior draws weighted by the likelihood alone.
    outcomes = "1NNN 2ENN"
    priors = EffToxPriors()
    x = codified_doses(DOSES)
    counts = parse_outcomes(outcomes, num_doses=5, efficacy=True).joint_counts().astype(float)
    theta = np.random.default_rng(7).normal(priors.means, priors.sds, size=(400_000, 6))
    log_w = log_likelihood(theta, x, counts)
    w = np.exp(log_w - special.logsumexp(log_w))
    pe, pt = marginals(theta, x)
    result = fit(outcomes)
    assert np.allclose(w @ pe, result.prob_eff, atol=0.01)
    assert np.allclose(w @ pt, result.prob_tox, atol=0.01)


def test_escalates_without_toxicity_and_rising_efficacy() -> None:
    assert DESIGN.decide("1NNE").action == "escalate"
    decision = DESIGN.decide("1NNE 2NEE")
    assert (decision.next_dose, decision.action) == (3, "escalate")


def test_heavy_toxicity_stops() -> None:
    decision = DESIGN.decide("1TTT 1TTT")
    assert decision.stop and decision.next_dose is None and decision.selected_dose is None
    assert "no acceptable dose: stop" in decision.reasons


def test_acceptability_is_monotone_in_its_thresholds() -> None:
    # Same seed, same posterior: stricter cut-offs can only remove acceptable doses.
    loose = fit("1NNN 2ENN 3ETB")
    strict = EffTox(DOSES, p_t=0.5, p_e=0.5).fit("1NNN 2ENN 3ETB")
    assert all(a or not b for a, b in zip(loose.acceptable, strict.acceptable, strict=True))
    assert strict.recommended_dose is None
    higher_bar = EffTox(DOSES, efficacy_hurdle=0.7, toxicity_hurdle=0.2).fit("1NNN 2ENN 3ETB")
    assert np.all(np.array(higher_bar.prob_acc_eff) <= np.array(loose.prob_acc_eff))
    assert np.all(np.array(higher_bar.prob_acc_tox) <= np.array(loose.prob_acc_tox))


def test_max_n_stops_with_the_selected_dose() -> None:
    decision = EffTox(DOSES, max_n=6).decide("1NNN 2ENN")
    assert decision.stop and decision.selected_dose == 3
    frame = fit("1NNN 2ENN").to_frame()
    assert frame["n"].tolist() == [3, 3, 0, 0, 0]
    assert frame.loc[frame["utility"].idxmax(), "dose"] in (4, 5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"real_doses": (1.0, 2.0, 2.0, 6.6)}, "real_doses"),
        ({"real_doses": (4.0, 2.0, 1.0)}, "real_doses"),
        ({"real_doses": (0.0, 2.0, 4.0)}, "real_doses"),
        ({"real_doses": ("1", "two")}, "real_doses"),
        ({"efficacy_hurdle": 1.2}, "efficacy_hurdle"),
        ({"toxicity_hurdle": 0.0}, "toxicity_hurdle"),
        ({"p_e": -0.1}, "p_e"),
        ({"p_t": 1.0}, "p_t"),
        ({"eff_star": 0.4}, "eff_star"),
        ({"start_dose": 6}, "start_dose"),
        ({"num_samples": 10}, "num_samples"),
    ],
)
def test_bad_design_parameters_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    args = {"real_doses": DOSES, **kwargs}
    with pytest.raises(InvalidInputError) as info:
        EffTox(args.pop("real_doses"), **args)
    assert info.value.field == field


@pytest.mark.parametrize("field", ["alpha_sd", "eta_sd", "psi_sd"])
@pytest.mark.parametrize("sd", [0.0, -1.0])
def test_priors_with_non_positive_sd_are_refused(field: str, sd: float) -> None:
    with pytest.raises(InvalidInputError) as info:
        EffToxPriors(**{field: sd})
    assert info.value.field == field


def test_letters_other_than_netb_are_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        DESIGN.next_dose("1NNE 2EXB")
    assert info.value.field == "outcomes"
    assert "letter 'X'" in str(info.value)
