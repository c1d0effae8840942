"""In vivo CAR-T programs: dose-finding designs, dose to CAR+ cell kinetics, the sliding scale.

Dose finding
    BOIN (Liu & Yuan 2015), BOIN12 (Lin et al. 2020), TITE-BOIN (Yuan et al. 2018) and
    EffTox (Thall & Cook 2004), each with ``next_dose(outcomes)`` on the cohort notation of
    the R ``escalation`` package, and simulation of their operating characteristics.
From dose to CAR+ cells
    A kinetic model from the administered dose to the Stein et al. 2019 expansion,
    contraction and persistence phases (ours: no published model exists).
The sliding scale
    Exposure-response and exposure-toxicity models and the efficacy/toxicity chart.
"""

from __future__ import annotations

from ._boin import BOIN, boin_boundaries
from ._boin12 import BOIN12
from ._efftox import EffTox, EffToxFit, efftox_solve_p, efftox_utility
from ._efftox_model import EffToxPriors
from ._exposure import population_exposure, predicted_exposure
from ._kinetics import (
    TYPICAL_LENTIVIRAL,
    TYPICAL_LNP_MRNA,
    InvivoKineticParameters,
    invivo_curve,
    neutralized_fraction,
    simulate_invivo,
)
from ._kinetics_fit import InvivoFit, fit_invivo
from ._oc_report import oc_report
from ._outcomes import CohortOutcomes, DoseDecision, parse_outcomes
from ._records import dosing_table, record_dosing, register_invivo_lot, release_invivo_lot
from ._report import invivo_report, invivo_table
from ._simulate import OperatingCharacteristics, Scenario, load_scenario, simulate
from ._simulate_efftox import EffToxOperatingCharacteristics, simulate_efftox
from ._simulate_tite import TimedOperatingCharacteristics, simulate_tite
from ._sliding import LogisticFit, fit_logistic, plot_sliding_scale, sliding_scale
from ._tite import TITEBOIN

__all__: list[str] = [
    "BOIN",
    "BOIN12",
    "TITEBOIN",
    "TYPICAL_LENTIVIRAL",
    "TYPICAL_LNP_MRNA",
    "CohortOutcomes",
    "DoseDecision",
    "EffTox",
    "EffToxFit",
    "EffToxOperatingCharacteristics",
    "EffToxPriors",
    "InvivoFit",
    "InvivoKineticParameters",
    "LogisticFit",
    "OperatingCharacteristics",
    "Scenario",
    "TimedOperatingCharacteristics",
    "boin_boundaries",
    "dosing_table",
    "efftox_solve_p",
    "efftox_utility",
    "fit_invivo",
    "fit_logistic",
    "invivo_curve",
    "invivo_report",
    "invivo_table",
    "load_scenario",
    "neutralized_fraction",
    "oc_report",
    "parse_outcomes",
    "plot_sliding_scale",
    "population_exposure",
    "predicted_exposure",
    "record_dosing",
    "register_invivo_lot",
    "release_invivo_lot",
    "simulate",
    "simulate_efftox",
    "simulate_invivo",
    "simulate_tite",
    "sliding_scale",
]
