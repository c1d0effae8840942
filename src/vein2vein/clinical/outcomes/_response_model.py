"""Does a product's attributes predict the patient's response? A cross-validated answer.

The model is fitted and judged on past patients only ("you can only correlate
backwards"): cross-validated discrimination (AUROC), a permutation test of that AUROC
against chance, and the calibration of the out-of-fold probabilities.

References
----------
.. [1] Ojala M, Garriga GC (2010). Permutation tests for studying classifier performance.
   J Mach Learn Res 11:1833-1863.
.. [2] Steyerberg EW (2019). Clinical Prediction Models, 2nd ed. Springer (ch. 15:
   calibration-in-the-large, calibration slope).
.. [3] Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW (2019).
   Calibration: the Achilles heel of predictive analytics. BMC Med 17:230.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from vein2vein.errors import InvalidInputError

from ._survival import _collect_warnings, _complete_cases, _require_columns

__all__ = ["ResponseModelResult", "response_model"]

_ALPHA: Final = 0.05
_CLIP: Final = 1e-6


@dataclass(frozen=True)
class ResponseModelResult:
    """A cross-validated response model.

    Attributes
    ----------
    features, target, model
        What was modelled, and how (``"logistic"`` or ``"random_forest"``).
    n, n_responders
        Patients (complete cases) and responders among them.
    cv
        The cross-validation used, in words.
    fold_aurocs
        AUROC of each test fold.
    auroc_mean, auroc_sd
        Mean and standard deviation of ``fold_aurocs`` (the permutation test's score).
    oof_auroc
        AUROC of the pooled out-of-fold predictions.
    permutation_p
        ``(1 + #{permuted mean AUROC >= observed}) / (1 + n_permutations)``.
    n_permutations
        Label permutations used.
    permutation_aurocs
        The mean fold AUROC under each permutation (the null distribution).
    brier
        Brier score of the out-of-fold probabilities (lower is better; the prevalence
        model scores ``p (1 - p)``).
    calibration_slope, calibration_intercept
        Logistic recalibration of the out-of-fold logits: slope (ideal 1; < 1 means
        predictions too extreme) and calibration-in-the-large with the slope fixed at 1
        (ideal 0). ``nan`` when it cannot be estimated.
    calibration_bins
        Frame of ``mean_predicted`` and ``observed_fraction`` per quantile bin
        (``sklearn.calibration.calibration_curve``).
    y, oof_predictions
        The outcome and the out-of-fold predicted probabilities, per patient in frame
        order (complete cases).
    coefficients
        Standardised logistic coefficients of the model refitted on all patients
        (per SD of each feature); empty for the random forest.
    seed
        The seed of the fold shuffle, the permutations and the model.
    caveats
        Everything that limits the reading.
    """

    features: tuple[str, ...]
    target: str
    model: str
    n: int
    n_responders: int
    cv: str
    fold_aurocs: tuple[float, ...]
    auroc_mean: float
    auroc_sd: float
    oof_auroc: float
    permutation_p: float
    n_permutations: int
    permutation_aurocs: np.ndarray = field(repr=False)
    brier: float
    calibration_slope: float
    calibration_intercept: float
    calibration_bins: pd.DataFrame = field(repr=False)
    y: np.ndarray = field(repr=False)
    oof_predictions: np.ndarray = field(repr=False)
    coefficients: dict[str, float]
    seed: int
    caveats: tuple[str, ...]

    @property
    def learned_something(self) -> bool:
        """Whether the permutation test rejects chance at the 5 % level."""
        return self.permutation_p < _ALPHA

    @property
    def summary(self) -> str:
        """The result in plain words, saying clearly when the model learned nothing."""
        head = (
            f"AUROC {self.auroc_mean:.2f} (SD over {len(self.fold_aurocs)} folds "
            f"{self.auroc_sd:.2f}), permutation p = {self.permutation_p:.2g} "
            f"({self.n_permutations} permutations)"
        )
        if self.learned_something:
            verdict = (
                f"the attributes ({', '.join(self.features)}) discriminate responders from "
                "non-responders better than chance in cross-validation; an association in "
                "past patients, not evidence that changing an attribute changes response"
            )
        else:
            verdict = "no evidence the attributes predict response"
        cal = (
            f" Brier score {self.brier:.3f}; calibration slope {self.calibration_slope:.2f}, "
            f"intercept {self.calibration_intercept:.2f}."
        )
        return f"{head}: {verdict}.{cal}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""

        def _num(x: float) -> float | None:
            return None if not np.isfinite(x) else float(x)

        return {
            "features": list(self.features),
            "target": self.target,
            "model": self.model,
            "n": self.n,
            "n_responders": self.n_responders,
            "cv": self.cv,
            "fold_aurocs": list(self.fold_aurocs),
            "auroc_mean": self.auroc_mean,
            "auroc_sd": self.auroc_sd,
            "oof_auroc": self.oof_auroc,
            "permutation_p": self.permutation_p,
            "n_permutations": self.n_permutations,
            "brier": self.brier,
            "calibration_slope": _num(self.calibration_slope),
            "calibration_intercept": _num(self.calibration_intercept),
            "calibration_bins": self.calibration_bins.to_dict(orient="list"),
            "coefficients": dict(self.coefficients),
            "seed": self.seed,
            "summary": self.summary,
            "caveats": list(self.caveats),
        }


def _estimator(model: str, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    if model == "logistic":
        # C = 1 on standardised features: a modest L2 penalty that keeps the small-n fit
        # stable without shrinking a real effect away.
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    if model == "random_forest":
        return RandomForestClassifier(n_estimators=200, min_samples_leaf=3, random_state=seed)
    msg = f"unknown model {model!r}; use 'logistic' or 'random_forest'"
    raise InvalidInputError(msg, field="model")


def _calibration(y: np.ndarray, p: np.ndarray, caveats: list[str]) -> tuple[float, float]:
    """Calibration slope and calibration-in-the-large (Steyerberg 2019, ch. 15)."""
    import statsmodels.api as sm  # type: ignore[import-untyped]

    lp = np.log(np.clip(p, _CLIP, 1 - _CLIP) / (1 - np.clip(p, _CLIP, 1 - _CLIP)))
    if np.ptp(lp) < 1e-12:
        caveats.append("all out-of-fold predictions are equal: no calibration slope.")
        return float("nan"), float("nan")
    try:
        with _collect_warnings(caveats, "statsmodels calibration"):
            slope_fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
            large_fit = sm.GLM(y, np.ones_like(lp), family=sm.families.Binomial(), offset=lp).fit()
        return float(slope_fit.params[1]), float(large_fit.params[0])
    except (ValueError, np.linalg.LinAlgError) as exc:  # perfect separation and the like
        caveats.append(f"calibration slope could not be estimated: {exc}")
        return float("nan"), float("nan")


def response_model(
    frame: pd.DataFrame,
    *,
    features: Sequence[str],
    target: str = "responder",
    model: Literal["logistic", "random_forest"] = "logistic",
    n_splits: int = 5,
    n_permutations: int = 200,
    seed: int = 0,
) -> ResponseModelResult:
    """Cross-validated prediction of response from product attributes, tested against chance.

    The default model is a logistic regression on standardised features with a modest
    L2 penalty (``C = 1``), refitted with its scaler inside every training fold so that
    nothing leaks from the test fold. Evaluation is stratified K-fold cross-validation
    over patients (one row per patient, so folds are patient-level by construction); if a
    ``patient_id`` column repeats, ``StratifiedGroupKFold`` keeps each patient's rows in
    one fold and the result says so. Reported: the AUROC per fold (mean and SD) and of the
    pooled out-of-fold predictions, a permutation test of the mean fold AUROC
    (``sklearn.model_selection.permutation_test_score``, same folds; Ojala and Garriga
    2010, test 1), the Brier score, the calibration slope and intercept of the
    out-of-fold predictions, and quantile calibration bins.

    Rows with a missing feature or target are left out (complete cases) with a caveat.
    Library warnings (convergence, undefined metrics) become caveats.

    Parameters
    ----------
    frame
        One row per patient (or per product, with ``patient_id`` to group them).
    features
        Numeric attribute columns.
    target
        The 0/1 response column.
    model
        ``"logistic"`` (default) or ``"random_forest"``.
    n_splits
        Cross-validation folds; lowered to the number of patients in the smaller class
        (with a caveat) when that is smaller.
    n_permutations
        Label permutations for the test against chance (the smallest attainable p-value
        is ``1 / (n_permutations + 1)``).
    seed
        Seed of the fold shuffle, the permutations and the model.

    Returns
    -------
    ResponseModelResult

    Raises
    ------
    InvalidInputError
        A missing or non-numeric column, a target not 0/1, fewer than two patients in
        either class, ``n_splits < 2`` or ``n_permutations < 1``.

    References
    ----------
    .. [1] Ojala M, Garriga GC (2010). J Mach Learn Res 11:1833-1863.
    .. [2] Steyerberg EW (2019). Clinical Prediction Models, 2nd ed. Springer.
    """
    from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]
    from sklearn.metrics import brier_score_loss, roc_auc_score  # type: ignore[import-untyped]
    from sklearn.model_selection import (  # type: ignore[import-untyped]
        StratifiedGroupKFold,
        StratifiedKFold,
        cross_val_predict,
        permutation_test_score,
    )

    feats = list(features)
    if not feats:
        msg = "give at least one feature"
        raise InvalidInputError(msg, field="features")
    if target in feats or len(set(feats)) != len(feats):
        msg = "features must be distinct and exclude the target"
        raise InvalidInputError(msg, field="features")
    if n_splits < 2:
        msg = "n_splits must be at least 2"
        raise InvalidInputError(msg, field="n_splits")
    if n_permutations < 1:
        msg = "n_permutations must be at least 1"
        raise InvalidInputError(msg, field="n_permutations")
    estimator = _estimator(model, seed)
    _require_columns(frame, [*feats, target])
    has_ids = "patient_id" in frame.columns
    caveats: list[str] = []
    data = _complete_cases(frame, [*feats, target, *(["patient_id"] if has_ids else [])], caveats)
    for c in feats:
        if not pd.api.types.is_numeric_dtype(data[c]):
            msg = "features must be numeric (code categories as 0/1 columns)"
            raise InvalidInputError(msg, field=c)
    y_all = pd.to_numeric(data[target], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isin(y_all, (0.0, 1.0))):
        msg = "the target must be 0 (non-responder) or 1 (responder)"
        raise InvalidInputError(msg, field=target)
    y = y_all.astype(int)
    x = data[feats].to_numpy(dtype=float)
    minority = int(min(y.sum(), (1 - y).sum()))
    if minority < 2:
        msg = (
            "need at least two responders and two non-responders, found "
            f"{y.sum()} and {(1 - y).sum()}"
        )
        raise InvalidInputError(msg, field=target)
    splits = n_splits
    if minority < n_splits:
        splits = minority
        caveats.append(
            f"only {minority} patients in the smaller class: {splits} folds instead of {n_splits}."
        )

    groups: np.ndarray | None = None
    if has_ids and data["patient_id"].duplicated().any():
        groups = data["patient_id"].to_numpy()
        cv: Any = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
        cv_text = (
            f"{splits}-fold stratified group cross-validation (StratifiedGroupKFold): "
            "patient_id repeats, so each patient's rows stay in one fold"
        )
    else:
        cv = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
        cv_text = f"{splits}-fold stratified cross-validation over patients (one row each)"
    folds = list(cv.split(x, y, groups))

    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    try:
        # Hundreds of tiny fits: BLAS threads only add contention (10x slower on a busy host).
        with threadpool_limits(limits=1), _collect_warnings(caveats, "scikit-learn"):
            oof = cross_val_predict(
                estimator, x, y, groups=groups, cv=folds, method="predict_proba"
            )[:, 1]
            score, perm_scores, p_value = permutation_test_score(
                estimator,
                x,
                y,
                groups=groups,
                cv=folds,
                n_permutations=n_permutations,
                random_state=seed,
                scoring="roc_auc",
            )
            fitted = estimator.fit(x, y)
    except ValueError as exc:  # e.g. a permuted training fold with one class only
        msg = f"too few patients to cross-validate the model ({len(y)}): {exc}"
        raise InvalidInputError(msg, field=target) from None
    fold_aurocs = tuple(float(roc_auc_score(y[test], oof[test])) for _, test in folds)
    if not np.isclose(float(score), float(np.mean(fold_aurocs))):  # pragma: no cover
        caveats.append("the permutation test's AUROC differs from the fold AUROCs.")
    coefficients: dict[str, float] = {}
    if model == "logistic":
        coefs = fitted[-1].coef_[0]
        coefficients = {f: float(c) for f, c in zip(feats, coefs, strict=True)}

    slope, intercept = _calibration(y, oof, caveats)
    n_bins = max(2, min(10, len(y) // 10))
    prob_true, prob_pred = calibration_curve(y, oof, n_bins=n_bins, strategy="quantile")
    bins = pd.DataFrame({"mean_predicted": prob_pred, "observed_fraction": prob_true})

    n = len(y)
    if n < 50:
        caveats.append(
            f"only {n} patients: the AUROC and calibration are imprecise (see the spread "
            "over folds)."
        )
    caveats.append(
        "The calibration is of out-of-fold predictions in these patients; it is not an "
        "external validation."
    )
    return ResponseModelResult(
        features=tuple(feats),
        target=target,
        model=model,
        n=n,
        n_responders=int(y.sum()),
        cv=cv_text,
        fold_aurocs=fold_aurocs,
        auroc_mean=float(np.mean(fold_aurocs)),
        auroc_sd=float(np.std(fold_aurocs, ddof=1)),
        oof_auroc=float(roc_auc_score(y, oof)),
        permutation_p=float(p_value),
        n_permutations=n_permutations,
        permutation_aurocs=np.asarray(perm_scores, dtype=float),
        brier=float(brier_score_loss(y, oof)),
        calibration_slope=slope,
        calibration_intercept=intercept,
        calibration_bins=bins,
        y=y,
        oof_predictions=oof,
        coefficients=coefficients,
        seed=seed,
        caveats=tuple(caveats),
    )
