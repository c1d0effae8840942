"""The demo's follow-up generator plants a signal the outcomes analysis finds, and only it.

SYNTHETIC data throughout: the generator of ``vein2vein demo``
(:func:`vein2vein.demo.run_followup`) makes the chance of response rise with the lot's
CAR expression. The response model must find that (cross-validated AUROC well above
0.5, permutation p small), and must say "no evidence" once the outcome is shuffled.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vein2vein.clinical import outcomes_report, patient_table, response_model
from vein2vein.demo import run_followup, synthetic_patient_table
from vein2vein.records import AssayResult, Batch, BatchStatus, Disposition, Sample
from vein2vein.simulate import SYNTHETIC_LABEL
from vein2vein.testing import Network, make_batch

FEATURES = ["car_expression", "vcn"]  # vcn: a release attribute with no planted effect


def _cars(n: int, seed: int) -> list[float]:
    """CAR expression (%) spread as in the demo's released lots (mean 33, SD 7)."""
    values = np.round(np.random.default_rng(seed).normal(33, 7, n).clip(10, 60), 1)
    return [float(v) for v in values]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return synthetic_patient_table(_cars(120, seed=1), seed=0)


def test_the_generator_labels_its_table_synthetic(cohort: pd.DataFrame) -> None:
    assert cohort.attrs["label"] == SYNTHETIC_LABEL
    assert set(cohort["responder"].unique()) == {0, 1}
    # The planted direction: responders' lots express more CAR.
    by = cohort.groupby("responder")["car_expression"].mean()
    assert by[1] > by[0] + 3


def test_the_response_model_finds_the_planted_signal(cohort: pd.DataFrame) -> None:
    result = response_model(cohort, features=FEATURES, n_permutations=99, seed=0)
    assert result.n == 120
    assert result.permutation_p <= 0.02  # 1/100 is the smallest attainable
    assert result.learned_something
    assert result.auroc_mean > 0.7
    assert result.oof_auroc > 0.7
    # It is the CAR expression that carries the signal, not the unrelated attribute.
    assert result.coefficients["car_expression"] > 0.5
    assert abs(result.coefficients["vcn"]) < result.coefficients["car_expression"] / 2


def test_with_the_outcome_shuffled_the_permutation_test_says_no_signal(
    cohort: pd.DataFrame,
) -> None:
    shuffled = cohort.copy()
    shuffled["responder"] = np.random.default_rng(5).permutation(shuffled["responder"].to_numpy())
    result = response_model(shuffled, features=FEATURES, n_permutations=99, seed=0)
    # Chance level: the test does not reject at 5 % (under no signal p is uniform).
    assert result.permutation_p > 0.05
    assert not result.learned_something
    assert abs(result.auroc_mean - 0.5) < 0.15
    assert "no evidence the attributes predict response" in result.summary


def test_a_demo_sized_cohort_shows_it_in_the_report(tmp_path: Path) -> None:
    """About 30 patients, as the demo infuses: the report states the association."""
    table = synthetic_patient_table(_cars(32, seed=2), seed=0)
    path = outcomes_report(
        table,
        attributes=FEATURES,
        out_dir=tmp_path,
        label=SYNTHETIC_LABEL,
        endpoints=("pfs",),
        n_permutations=39,
        seed=0,
    )
    html = " ".join(path.read_text().split())
    assert "SYNTHETIC" in html
    assert "discriminate responders from non-responders better than chance" in html


def _released_lot(net: Network, car: float) -> str:
    batch = make_batch(net)
    with net.db.unit_of_work(net.actor("operator")) as uow:
        sample = uow.add(
            Sample(
                sample_code=f"{batch.batch_code}-FP",
                batch_id=batch.id,
                stage="final_product",
                collected_at=batch.started_at + timedelta(days=9),
            )
        )
        uow.add(
            AssayResult(
                sample_id=sample.id,
                analyte="car_expression",
                value_text=str(car),
                value=car,
                unit="%",
                entered_by_id=net.actor("operator").user_id,
            )
        )
    with net.db.unit_of_work(net.actor("qa_reviewer")) as uow:
        lot = uow.get(Batch, batch.batch_code)
        uow.change(lot, status=BatchStatus.released, reason="test: disposition")
        uow.add(  # released two weeks in: the follow-up infuses a week later
            Disposition(
                batch_id=lot.id,
                disposition="released",
                decided_by_id=net.actor("qa_reviewer").user_id,
                decided_at=lot.started_at + timedelta(days=14),
            )
        )
    return batch.batch_code


def test_the_table_without_a_database_is_what_the_demo_records(
    network: Network, tmp_path: Path
) -> None:
    """``synthetic_patient_table`` draws exactly the follow-up ``run_followup`` records."""
    cars = [18.0, 27.5, 33.0, 41.0]
    lots = {_released_lot(network, car): car for car in cars}
    summary = run_followup(
        network.db,
        tmp_path,
        clinician=network.actor("clinician"),
        car_expression=lots,
        seed=4,
        report=lambda _stage, _done, _total: None,
    )
    assert summary["patients"] == 4 and summary["label"] == SYNTHETIC_LABEL
    with network.db.read() as session:
        recorded = patient_table(session).sort_values("batch").reset_index(drop=True)
    drawn = synthetic_patient_table([lots[b] for b in sorted(lots)], seed=4)
    columns = ["car_expression", "max_crs", "cmax", "best_response", "responder", "pfs_time"]
    pd.testing.assert_frame_equal(
        recorded[columns], drawn[columns], check_dtype=False, check_exact=False
    )
