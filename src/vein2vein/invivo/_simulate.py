"""Operating characteristics of a dose-finding design by simulated trials, all at once.

Every trial of a batch advances one cohort per step: outcomes are drawn for the trials
still running, the design decides for all of them with array operations, and the trials
it stops leave the batch. Toxicity and efficacy are drawn independently per patient
(``P(E and T) = p_E p_T``). :func:`simulate_reference` runs the same decisions one trial
at a time (the loop of ``BOIN::get.oc``), for the benchmark and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import InvalidInputError
from ..support import Column, TableSchema, read_table, read_yaml_mapping

__all__ = [
    "OperatingCharacteristics",
    "Scenario",
    "load_scenario",
    "simulate",
    "simulate_reference",
]

IntArray = npt.NDArray[np.int64]
_SCENARIO_KEYS = ("true_tox", "true_eff", "name")
MAX_TRIALS = 1_000_000
"""The most simulated trials one run takes."""
MAX_SAMPLE_SIZE = 1_000
"""The largest dose-finding trial (patients) a simulation takes."""
_SCENARIO_COLUMNS = ("dose", "true_tox", "true_eff")
_SCENARIO_SCHEMA = TableSchema(
    (
        Column("dose", required=False, kind="number"),
        Column("true_tox", kind="number"),
        Column("true_eff", required=False, kind="number"),
    ),
    what="dose levels",
)
BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[int, int], None]


class _Design(Protocol):
    name: str
    num_doses: int
    start_dose: int
    uses_efficacy: bool

    def _batch_next(
        self, n: IntArray, tox: IntArray, joint: IntArray | None, dose: IntArray
    ) -> tuple[IntArray, BoolArray, BoolArray]: ...

    def _select(self, n: IntArray, tox: IntArray, joint: IntArray | None) -> IntArray: ...


def _probabilities(values: Sequence[float] | None, name: str, *, file: str | None = None) -> Any:
    if values is None:
        return None
    try:
        array = np.asarray([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"{list(values)!r} is not a list of numbers"
        raise InvalidInputError(msg, file=file, field=name) from None
    if array.ndim != 1 or array.size == 0:
        msg = "give one probability per dose level"
        raise InvalidInputError(msg, file=file, field=name)
    bad = np.flatnonzero(~((array >= 0) & (array <= 1)))
    if bad.size:
        i = int(bad[0])
        msg = f"dose level {i + 1}: {float(array[i])!r} is not a probability in [0, 1]"
        raise InvalidInputError(msg, file=file, field=name)
    return array


@dataclass(frozen=True)
class Scenario:
    """True toxicity (and efficacy) probabilities per dose level.

    Attributes
    ----------
    true_tox
        Toxicity probability of each dose level.
    true_eff
        Efficacy probability of each dose level (None for toxicity-only designs).
    name
        A label for reports.
    """

    true_tox: tuple[float, ...]
    true_eff: tuple[float, ...] | None = None
    name: str = "scenario"

    def __post_init__(self) -> None:
        tox = _probabilities(self.true_tox, "true_tox")
        eff = _probabilities(self.true_eff, "true_eff")
        if eff is not None and eff.size != tox.size:
            msg = f"{eff.size} efficacy probabilities for {tox.size} dose levels"
            raise InvalidInputError(msg, field="true_eff")


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from YAML or CSV.

    YAML: a mapping with ``true_tox`` (list), optional ``true_eff`` (list) and ``name``;
    any other key, or a key given twice, is refused with its line (PyYAML alone would
    keep the last of two ``true_tox`` lists without a word).
    CSV: columns ``dose`` (1, 2, ... in order), ``true_tox`` and optionally ``true_eff``;
    one row per dose level. Probabilities must lie in [0, 1].

    Parameters
    ----------
    path
        ``.yaml``/``.yml`` or ``.csv`` file.

    Returns
    -------
    Scenario
        The scenario, named after the file unless it names itself.

    Raises
    ------
    InvalidInputError
        Unreadable or non-UTF-8 file, unknown, repeated or missing key, or a value
        that is not a probability.
    """
    path = Path(path)
    where = str(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        doc = read_yaml_mapping(path, keys=_SCENARIO_KEYS, required=("true_tox",))
        tox, eff, name = doc["true_tox"], doc.get("true_eff"), str(doc.get("name", path.stem))
        for key, value in (("true_tox", tox), ("true_eff", eff)):
            if value is not None and not isinstance(value, list):
                msg = "expected a list of probabilities, one per dose level"
                raise InvalidInputError(msg, file=where, field=key)
    elif suffix == ".csv":
        frame = read_table(path, _SCENARIO_SCHEMA)
        if "dose" in frame.columns and frame["dose"].tolist() != list(range(1, len(frame) + 1)):
            msg = "dose must run 1, 2, ... in order, one row per dose level"
            raise InvalidInputError(msg, file=where, field="dose")
        tox = frame["true_tox"].tolist()
        eff = frame["true_eff"].tolist() if "true_eff" in frame.columns else None
        name = path.stem
    else:
        msg = f"unknown scenario format {suffix!r}: use .yaml, .yml or .csv"
        raise InvalidInputError(msg, file=where)
    tox_arr = _probabilities(tox, "true_tox", file=where)
    eff_arr = _probabilities(eff, "true_eff", file=where)
    return Scenario(
        tuple(tox_arr.tolist()), None if eff_arr is None else tuple(eff_arr.tolist()), name
    )


@dataclass(frozen=True)
class OperatingCharacteristics:
    """What many simulated trials of a design did under one scenario.

    Attributes
    ----------
    design
        The design's ``repr``.
    n_trials, cohort_size, max_n, seed
        The simulation settings.
    true_tox, true_eff
        The scenario.
    selection
        Probability of selecting each dose level (MTD or optimal biological dose).
    no_selection
        Probability that no dose is selected (all too toxic / none admissible).
    mean_patients
        Mean number of patients treated at each dose level.
    mean_total
        Mean sample size.
    toxicity_rate, efficacy_rate
        Mean proportion of patients with toxicity / efficacy (NaN without efficacy).
    early_stop
        Probability that the trial stopped before ``max_n`` patients.
    """

    design: str
    n_trials: int
    cohort_size: int
    max_n: int
    seed: int
    true_tox: tuple[float, ...]
    true_eff: tuple[float, ...] | None
    selection: tuple[float, ...]
    no_selection: float
    mean_patients: tuple[float, ...]
    mean_total: float
    toxicity_rate: float
    efficacy_rate: float
    early_stop: float
    label: str = field(default="scenario")

    def to_frame(self) -> pd.DataFrame:
        """One row per dose level: truth, selection probability, mean patients."""
        frame = pd.DataFrame(
            {
                "dose": np.arange(1, len(self.selection) + 1),
                "true_tox": self.true_tox,
                "selection": self.selection,
                "mean_patients": self.mean_patients,
            }
        )
        if self.true_eff is not None:
            frame.insert(2, "true_eff", self.true_eff)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in self.__dict__.items()
        }


@dataclass
class _State:
    n: IntArray
    tox: IntArray
    joint: IntArray | None


def check_run_size(n_trials: int, cohort_size: int, max_n: int) -> None:
    """Refuse a simulation size that is not positive or could not finish (bad input).

    A dose-finding trial enrols tens of patients: ``max_n`` (and so ``cohort_size``)
    above :data:`MAX_SAMPLE_SIZE` is a typing error, as are more than
    :data:`MAX_TRIALS` simulated trials (their arrays would not fit in memory).
    """
    for value, name, high in (
        (n_trials, "n_trials", MAX_TRIALS),
        (cohort_size, "cohort_size", MAX_SAMPLE_SIZE),
        (max_n, "max_n", MAX_SAMPLE_SIZE),
    ):
        if value < 1:
            msg = f"{name} must be at least 1, not {value}"
            raise InvalidInputError(msg, field=name)
        if value > high:
            msg = f"{name} {value} is more than the {high:,} a simulation can run"
            raise InvalidInputError(msg, field=name)


def _setup(
    design: _Design,
    true_tox: Sequence[float],
    true_eff: Sequence[float] | None,
    n_trials: int,
    cohort_size: int,
    max_n: int,
) -> tuple[Any, Any, Any]:
    tox = _probabilities(true_tox, "true_tox")
    eff = _probabilities(true_eff, "true_eff")
    if tox.size != design.num_doses:
        msg = f"{tox.size} toxicity probabilities for a {design.num_doses}-dose design"
        raise InvalidInputError(msg, field="true_tox")
    if design.uses_efficacy and eff is None:
        msg = f"{design.name} needs true_eff, the efficacy probability per dose"
        raise InvalidInputError(msg, field="true_eff")
    if eff is not None and eff.size != tox.size:
        msg = f"{eff.size} efficacy probabilities for {tox.size} dose levels"
        raise InvalidInputError(msg, field="true_eff")
    check_run_size(n_trials, cohort_size, max_n)
    if max_n < cohort_size:
        msg = f"max_n {max_n} is smaller than one cohort ({cohort_size})"
        raise InvalidInputError(msg, field="max_n")
    if eff is None:
        return tox, None, None
    # outcome categories: E no T, neither, both, T no E (the BOIN12 utility order)
    probs = np.stack([eff * (1 - tox), (1 - eff) * (1 - tox), eff * tox, (1 - eff) * tox], 1)
    return tox, eff, np.cumsum(probs, axis=1)[:, :3]


def _treat(
    state: _State, rows: IntArray, dose: IntArray, size: int, rng: np.random.Generator, p: Any
) -> None:
    tox, _, cum = p
    # The state keeps joint outcome counts exactly when the scenario has efficacy (cum).
    if state.joint is None:
        events = (rng.random((rows.size, size)) < tox[dose][:, None]).sum(axis=1)
        state.tox[rows, dose] += events
    else:
        u = rng.random((rows.size, size))
        category = (u[:, :, None] >= cum[dose][:, None, :]).sum(axis=2)
        counts = (category[:, :, None] == np.arange(4)).sum(axis=1)
        state.joint[rows, dose] += counts
        state.tox[rows, dose] += counts[:, 2] + counts[:, 3]
    state.n[rows, dose] += size


def _summarise(
    design: _Design,
    state: _State,
    none: BoolArray,
    early: BoolArray,
    settings: tuple[int, int, int, int],
    scenario: tuple[Any, Any, Any],
    label: str,
) -> OperatingCharacteristics:
    n_trials, cohort_size, max_n, seed = settings
    tox, eff, _ = scenario
    selected = design._select(state.n, state.tox, state.joint)
    selected = np.where(none, -1, selected)
    k = design.num_doses
    selection = np.bincount(selected[selected >= 0], minlength=k) / n_trials
    total = state.n.sum()
    eff_events = (
        float((state.joint[..., 0] + state.joint[..., 2]).sum() / total)
        if state.joint is not None
        else math.nan
    )
    return OperatingCharacteristics(
        design=repr(design),
        n_trials=n_trials,
        cohort_size=cohort_size,
        max_n=max_n,
        seed=seed,
        true_tox=tuple(float(v) for v in tox),
        true_eff=None if eff is None else tuple(float(v) for v in eff),
        selection=tuple(float(v) for v in selection),
        no_selection=float(np.mean(selected < 0)),
        mean_patients=tuple(float(v) for v in state.n.mean(axis=0)),
        mean_total=float(state.n.sum(axis=1).mean()),
        toxicity_rate=float(state.tox.sum() / total),
        efficacy_rate=eff_events,
        early_stop=float(np.mean(early)),
        label=label,
    )


def simulate(
    design: _Design,
    *,
    true_tox: Sequence[float],
    true_eff: Sequence[float] | None = None,
    n_trials: int = 10_000,
    cohort_size: int = 3,
    max_n: int = 36,
    seed: int = 0,
    progress: Progress | None = None,
    label: str = "scenario",
) -> OperatingCharacteristics:
    """Operating characteristics of ``design`` by ``n_trials`` simulated trials.

    Parameters
    ----------
    design
        A :class:`BOIN` or :class:`BOIN12` (or any design with the batch interface).
    true_tox
        True toxicity probability per dose level.
    true_eff
        True efficacy probability per dose level (required by efficacy designs).
    n_trials
        Number of simulated trials.
    cohort_size
        Patients per cohort.
    max_n
        Maximum sample size; trials run ``max_n // cohort_size`` cohorts unless the
        design stops them earlier.
    seed
        Seed of the numpy random generator.
    progress
        Called as ``progress(cohorts_done, cohorts_total)`` after each cohort.
    label
        Scenario name carried into the result.

    Returns
    -------
    OperatingCharacteristics
        Selection probabilities, mean patients per dose, event rates, early stopping.

    References
    ----------
    .. [1] Yan F et al. (2020). BOIN: an R package ... J Stat Softw 94(13)
       (``get.oc``: the trial loop this follows).

    Notes
    -----
    A :class:`TITEBOIN` goes to :func:`simulate_tite` (calendar time, its default
    accrual) and an :class:`EffTox` to :func:`simulate_efftox`; ``progress`` then
    counts trials.
    """
    from ._efftox import EffTox
    from ._tite import TITEBOIN

    common: dict[str, Any] = {
        "true_tox": true_tox,
        "n_trials": n_trials,
        "cohort_size": cohort_size,
        "max_n": max_n,
        "seed": seed,
        "progress": progress,
        "label": label,
    }
    if isinstance(design, TITEBOIN):
        from ._simulate_tite import simulate_tite

        return simulate_tite(design, **common)
    if isinstance(design, EffTox):
        from ._simulate_efftox import simulate_efftox

        if true_eff is None:
            msg = "EffTox needs true_eff, the efficacy probability per dose"
            raise InvalidInputError(msg, field="true_eff")
        return simulate_efftox(design, true_eff=true_eff, **common)
    scenario = _setup(design, true_tox, true_eff, n_trials, cohort_size, max_n)
    k = design.num_doses
    rng = np.random.default_rng(seed)
    state = _State(
        np.zeros((n_trials, k), np.int64),
        np.zeros((n_trials, k), np.int64),
        np.zeros((n_trials, k, 4), np.int64) if scenario[2] is not None else None,
    )
    dose = np.full(n_trials, design.start_dose - 1, np.int64)
    active = np.ones(n_trials, bool)
    none = np.zeros(n_trials, bool)
    early = np.zeros(n_trials, bool)
    cohorts = max_n // cohort_size
    for step in range(cohorts):
        rows = np.flatnonzero(active)
        if rows.size:
            _treat(state, rows, dose[rows], cohort_size, rng, scenario)
            joint = None if state.joint is None else state.joint[rows]
            nxt, stop_select, stop_none = design._batch_next(
                state.n[rows], state.tox[rows], joint, dose[rows]
            )
            stop = stop_select | stop_none
            none[rows[stop_none]] = True
            if step < cohorts - 1:
                early[rows[stop]] = True
            active[rows[stop]] = False
            dose[rows[~stop]] = nxt[~stop]
        if progress is not None:
            progress(step + 1, cohorts)
    settings = (n_trials, cohort_size, max_n, seed)
    return _summarise(design, state, none, early, settings, scenario, label)


def simulate_reference(
    design: _Design,
    *,
    true_tox: Sequence[float],
    true_eff: Sequence[float] | None = None,
    n_trials: int = 1000,
    cohort_size: int = 3,
    max_n: int = 36,
    seed: int = 0,
) -> OperatingCharacteristics:
    """The same simulation one trial at a time (a Python loop per trial and cohort).

    Slow on purpose: the benchmark's reference and a check of :func:`simulate`'s
    bookkeeping. Parameters as in :func:`simulate`.
    """
    scenario = _setup(design, true_tox, true_eff, n_trials, cohort_size, max_n)
    k = design.num_doses
    rng = np.random.default_rng(seed)
    state = _State(
        np.zeros((n_trials, k), np.int64),
        np.zeros((n_trials, k), np.int64),
        np.zeros((n_trials, k, 4), np.int64) if scenario[2] is not None else None,
    )
    none = np.zeros(n_trials, bool)
    early = np.zeros(n_trials, bool)
    cohorts = max_n // cohort_size
    for trial in range(n_trials):
        row = np.array([trial])
        d = np.array([design.start_dose - 1])
        for step in range(cohorts):
            _treat(state, row, d, cohort_size, rng, scenario)
            joint = None if state.joint is None else state.joint[row]
            nxt, stop_select, stop_none = design._batch_next(state.n[row], state.tox[row], joint, d)
            if stop_none[0]:
                none[trial] = True
            if stop_select[0] or stop_none[0]:
                early[trial] = step < cohorts - 1
                break
            d = nxt
    settings = (n_trials, cohort_size, max_n, seed)
    return _summarise(design, state, none, early, settings, scenario, "scenario")
