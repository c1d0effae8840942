"""The batch MSPC model: multiway PCA of batch-wise unfolded trajectories."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ... import logging as v2vlog
from ...errors import InvalidInputError
from ._align import AlignedTrajectories, align_trajectories, validate_long
from ._fit import SpeReference, fit_state, require_complete
from ._online import complete, contribution_cells, elapsed, monitor_statistics
from ._results import CompletionMethod, MonitoringResult, top_contributors
from ._state import LEVELS, FittedState

__all__ = ["BatchMSPC"]

Statistic = Literal["SPE", "T2"]
SpeMethod = Literal["box", "jackson_mudholkar"]
_METHODS = ("current", "zero", "projection")


class BatchMSPC:
    r"""Batch multivariate statistical process control (multiway PCA).

    Reference ("good") batches are aligned on a common time grid, unfolded batch-wise
    to an I x (K*J) matrix (time-major), autoscaled column by column and modelled by
    PCA. A batch is then judged by Hotelling's T² of its scores (variation inside the
    model) and by its squared prediction error SPE (variation the model does not
    explain), each against 95 % and 99 % limits. A running batch is monitored online
    by completing its future trajectory (current deviations, zero deviations, or
    projection as missing data).

    Parameters
    ----------
    spe_method
        Which SPE limit judges whole batches in :meth:`score`: ``"box"`` (Box's
        :math:`g\chi^2_h`, as Nomikos & MacGregor 1995) or ``"jackson_mudholkar"``.
        Both are computed and stored; time-resolved limits always use Box.

    References
    ----------
    .. [1] Nomikos P, MacGregor JF (1994). Monitoring batch processes using multiway
       principal component analysis. AIChE J 40:1361-1375.
    .. [2] Nomikos P, MacGregor JF (1995). Multivariate SPC charts for monitoring batch
       processes. Technometrics 37:41-59.
    .. [3] Tracy ND, Young JC, Mason RL (1992). Multivariate control charts for
       individual observations. J Qual Technol 24:88-95.
    .. [4] Jackson JE, Mudholkar GS (1979). Control procedures for residuals associated
       with principal component analysis. Technometrics 21:341-349.
    .. [5] Westerhuis JA, Gurden SP, Smilde AK (2000). Generalized contribution plots in
       multivariate statistical process monitoring. Chemom Intell Lab Syst 51:95-114.
    """

    def __init__(self, *, spe_method: SpeMethod = "box") -> None:
        if spe_method not in ("box", "jackson_mudholkar"):
            msg = f"spe_method must be 'box' or 'jackson_mudholkar', got {spe_method!r}"
            raise InvalidInputError(msg, field="spe_method")
        self.spe_method: SpeMethod = spe_method
        self._state: FittedState | None = None
        self._fit_batches: dict[Hashable, NDArray[np.float64]] = {}

    # ------------------------------------------------------------------ state
    @property
    def _s(self) -> FittedState:
        """The fitted state; raises if the model is not fitted."""
        if self._state is None:
            msg = "the model is not fitted: call fit() or from_dict() first"
            raise InvalidInputError(msg, field="model")
        return self._state

    @property
    def parameters(self) -> tuple[str, ...]:
        """The J parameters, in model order."""
        return self._s.parameters

    @property
    def grid(self) -> NDArray[np.float64]:
        """The K grid times (hours since step start)."""
        return self._s.grid.copy()

    @property
    def n_components(self) -> int:
        """The number of principal components A."""
        return self._s.n_components

    @property
    def component_selection(self) -> str:
        """How A was chosen, in words."""
        return self._s.component_selection

    @property
    def limits(self) -> pd.DataFrame:
        """The whole-batch limits: ``statistic, kind, level, limit``."""
        rows = [
            {
                "statistic": kind.split("_", 1)[0],
                "kind": kind.split("_", 1)[1],
                "level": lv,
                "limit": value,
            }
            for kind, by_level in self._s.limits.items()
            for lv, value in by_level.items()
        ]
        return pd.DataFrame(rows)

    def reference_scores(self) -> pd.DataFrame:
        """T² and SPE of the reference batches against their Phase I limits.

        T² is in-sample (judged against the Beta limit). SPE is the value the SPE
        limits were fitted to: by default each batch's leave-one-out SPE, so an
        outlying reference batch is not masked by its own pull on the model.
        """
        s = self._s
        return self._frame(list(s.reference_batches), s.reference_t2, s.reference_spe, phase="I")

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        trajectories: pd.DataFrame,
        *,
        reference_batches: Sequence[Hashable] | None = None,
        n_components: int | None = None,
        variance_threshold: float = 0.8,
        grid: int | ArrayLike = 50,
        end_tolerance: float | None = None,
        max_gap: float | None = None,
        spe_reference: SpeReference = "leave-one-out",
        spe_window: int = 1,
    ) -> BatchMSPC:
        """Fit the model to the reference batches.

        Parameters
        ----------
        trajectories
            Long frame ``batch, parameter, time, value`` (time in hours since step
            start). Every batch in it is validated; only ``reference_batches`` are
            modelled.
        reference_batches
            The good batches that define normal operation. Default: all batches.
        n_components
            Number of principal components A (1 to I-2). Default: the smallest A whose
            cumulative explained variance reaches ``variance_threshold``.
        variance_threshold
            Cumulative explained-variance fraction used when ``n_components`` is None.
        grid
            Grid times, or a number K of evenly spaced times over the interval all
            reference batches cover (see :func:`align_trajectories`).
        end_tolerance, max_gap
            Alignment options (see :func:`align_trajectories`).
        spe_reference
            Which reference SPE values the SPE limits (whole-batch and time-resolved)
            are fitted to: ``"leave-one-out"`` (default; each reference batch's
            residuals from the model fitted without it, van Sprang et al. 2002) or
            ``"in-sample"`` (residuals from the model fitted with it, as Nomikos &
            MacGregor 1995). With I batches and K*J >> I columns the in-sample
            residuals are too small and new good batches alarm far more often than
            the nominal 1 % / 5 %. The Jackson-Mudholkar limit always uses the in-sample
            residual eigenvalues.
        spe_window
            The time-resolved SPE limit at grid time k is fitted to the reference SPE
            values at times k - w ... k + w pooled (w = ``spe_window``; 0 for time k
            alone), which steadies the estimate of its mean and variance when there
            are few reference batches.

        Returns
        -------
        BatchMSPC
            The fitted model (``self``).

        References
        ----------
        .. [1] van Sprang ENM, Ramaker H-J, Westerhuis JA, Gurden SP, Smilde AK (2002).
           Critical evaluation of approaches for on-line batch process monitoring.
           Chem Eng Sci 57:3979-3991.
        .. [2] Ramaker H-J, van Sprang ENM, Westerhuis JA, Smilde AK (2004). The effect
           of the size of the training set and number of principal components on the
           false alarm rate in statistical process monitoring. Chemom Intell Lab Syst
           73:181-187.
        """
        start = v2vlog.info("fitting batch MSPC")
        if spe_reference not in ("leave-one-out", "in-sample"):
            msg = f"spe_reference must be 'leave-one-out' or 'in-sample', got {spe_reference!r}"
            raise InvalidInputError(msg, field="spe_reference")
        if isinstance(spe_window, bool) or not isinstance(spe_window, int) or spe_window < 0:
            msg = f"spe_window must be a whole number of grid steps >= 0, got {spe_window!r}"
            raise InvalidInputError(msg, field="spe_window")
        df = validate_long(trajectories)
        all_batches = list(pd.unique(df["batch"]))
        if reference_batches is None:
            ref = all_batches
        else:
            ref = list(reference_batches)
            known = set(all_batches)
            unknown = [b for b in ref if b not in known]
            if unknown or not ref or len(set(ref)) != len(ref):
                why = f"unknown batch(es) {unknown!r}" if unknown else "empty or repeated ids"
                msg = f"reference_batches: {why}"
                raise InvalidInputError(msg, field="reference_batches")
        aligned = align_trajectories(
            df[df["batch"].isin(ref)],
            grid=grid,
            end_tolerance=end_tolerance,
            max_gap=max_gap,
        )
        self._state = fit_state(
            aligned,
            n_components=n_components,
            variance_threshold=variance_threshold,
            spe_reference=spe_reference,
            spe_window=spe_window,
        )
        # Keep the scaled data of every complete batch given to fit, for contributions().
        everything = self._align(df)
        self._fit_batches = {
            b: row
            for b, row, ok in zip(
                everything.batches, self._scale(everything), everything.complete, strict=True
            )
            if ok
        }
        st = self._state
        v2vlog.info(
            f"fitted batch MSPC: {st.n_batches} reference batches, {len(st.parameters)} "
            f"parameters, {st.grid.size} grid times, {st.n_components} components "
            f"({st.component_selection})",
            time=start,
        )
        return self

    # ------------------------------------------------------------------ score
    def score(
        self, trajectories: pd.DataFrame, *, phase: Literal["I", "II"] = "II"
    ) -> pd.DataFrame:
        """T² and SPE of complete batches, with 95 % and 99 % limits and alarm flags.

        Parameters
        ----------
        trajectories
            Long frame of one or more complete batches.
        phase
            ``"II"`` (default) judges new batches against the F-based T² limit;
            ``"I"`` judges batches that are part of the reference set (Beta limit;
            their SPE here is in-sample, see :meth:`reference_scores` for the
            leave-one-out values).

        Returns
        -------
        pandas.DataFrame
            ``batch, T2, SPE, T2_limit_95, T2_limit_99, SPE_limit_95, SPE_limit_99,
            T2_alarm_95, T2_alarm_99, SPE_alarm_95, SPE_alarm_99, status``; ``status``
            is ``"alarm"`` beyond a 99 % limit, ``"warning"`` beyond a 95 % limit,
            else ``"in control"``.
        """
        if phase not in ("I", "II"):
            msg = f"phase must be 'I' or 'II', got {phase!r}"
            raise InvalidInputError(msg, field="phase")
        s = self._s
        aligned = self._align(validate_long(trajectories, parameters=s.parameters))
        require_complete(aligned, role="scored")
        z = self._scale(aligned)
        scores = z @ s.loadings.T
        t2 = np.sum(scores**2 / s.score_variances, axis=1)
        spe = np.sum((z - scores @ s.loadings) ** 2, axis=1)
        return self._frame(list(aligned.batches), t2, spe, phase=phase)

    # ------------------------------------------------------------------ monitor
    def monitor(
        self,
        partial_trajectory: pd.DataFrame,
        *,
        method: CompletionMethod = "current",
        batch: Hashable | None = None,
    ) -> MonitoringResult:
        """Monitor a running batch: T² and SPE at each elapsed grid time.

        At grid time :math:`t_k` only the scaled values up to :math:`t_k` are used,
        as if the batch were being monitored in real time. The unknown future is
        completed by one of the methods of Nomikos & MacGregor (1995):

        - ``"current"``: future deviations from the mean trajectory stay at their
          current scaled value (the values at :math:`t_k` are repeated);
        - ``"zero"``: future deviations are zero (the batch follows the mean
          trajectory from :math:`t_k + 1` on);
        - ``"projection"``: the future is treated as missing data and the scores are
          the least-squares projection of the known part onto the known rows of the
          loadings, :math:`t = (P_k^T P_k)^{-1} P_k^T x_k` (minimum-norm
          least squares while fewer than A values are known, so the first few
          points are unreliable). Only this method accepts gaps (NaN) before
          :math:`t_k`.

        T² is judged against the Phase II (F) limit. SPE at :math:`t_k` is the
        instantaneous SPE of the J parameters at that time, judged against a
        time-resolved limit: Box's approximation fitted to the reference batches'
        SPE at the same time.

        Parameters
        ----------
        partial_trajectory
            Long frame of the running batch (it may also be complete).
        method
            ``"current"`` (default), ``"zero"`` or ``"projection"``.
        batch
            Which batch to monitor when the frame holds more than one.

        Returns
        -------
        MonitoringResult
            The monitoring record.

        References
        ----------
        .. [1] Nomikos P, MacGregor JF (1995). Multivariate SPC charts for monitoring
           batch processes. Technometrics 37:41-59.
        .. [2] Nelson PRC, Taylor PA, MacGregor JF (1996). Missing data methods in PCA
           and PLS: score calculations with incomplete observations. Chemom Intell Lab
           Syst 35:45-65.
        """
        s = self._s
        _check_method(method)
        aligned = self._align(self._one_batch(partial_trajectory, batch))
        n_e = elapsed(aligned)
        z = self._scale(aligned)[0]
        t2, spe = monitor_statistics(s, z, n_e, method=method)
        frame = pd.DataFrame({"time": s.grid[:n_e], "T2": t2, "SPE": spe})
        for lv in LEVELS:
            pct = round(lv * 100)
            frame[f"T2_limit_{pct}"] = s.limits["T2_phase2"][lv]
            frame[f"SPE_limit_{pct}"] = s.spe_time_limits[lv][:n_e]
        for name in ("T2", "SPE"):
            for lv in LEVELS:
                pct = round(lv * 100)
                frame[f"{name}_alarm_{pct}"] = frame[name] > frame[f"{name}_limit_{pct}"]
        return MonitoringResult(
            batch=aligned.batches[0], method=method, frame=frame, n_grid=s.grid.size
        )

    # ------------------------------------------------------------------ contributions
    def contributions(
        self,
        batch: pd.DataFrame | Hashable,
        *,
        statistic: Statistic = "SPE",
        method: Literal["current", "zero"] = "current",
    ) -> pd.DataFrame:
        r"""Contribution of each parameter at each grid time to a batch's SPE or T².

        - SPE: the squared residual :math:`e_{jk}^2` of each scaled value; they sum to
          the batch's SPE.
        - T²: :math:`c_{jk} = \sum_a (t_a / \lambda_a) p_{a,jk} x_{jk}` (Westerhuis,
          Gurden & Smilde 2000); they sum to T² and may be negative.

        For a running batch the future is completed with ``method`` (as in
        :meth:`monitor`) and only elapsed grid times are reported: SPE contributions
        are those of the elapsed values (``percent`` is then relative to their sum);
        T² contributions of the completed future are added to the current time
        (current deviations repeat it; zero deviations contribute nothing), so they
        still sum to the batch's T² at its current time.

        Parameters
        ----------
        batch
            A long frame holding one batch, or the identifier of a complete batch
            that was in the frame given to :meth:`fit`.
        statistic
            ``"SPE"`` (default) or ``"T2"``.
        method
            Completion for a running batch: ``"current"`` (default) or ``"zero"``.

        Returns
        -------
        pandas.DataFrame
            ``batch, statistic, parameter, time, contribution, percent``
            (percent of the total), in time order.

        References
        ----------
        .. [1] Westerhuis JA, Gurden SP, Smilde AK (2000). Generalized contribution
           plots in multivariate statistical process monitoring. Chemom Intell Lab
           Syst 51:95-114.
        .. [2] Nomikos P (1996). Detection and diagnosis of abnormal batch operations
           based on multi-way principal component analysis. ISA Trans 35:259-266.
        """
        s = self._s
        if statistic not in ("SPE", "T2"):
            msg = f"statistic must be 'SPE' or 'T2', got {statistic!r}"
            raise InvalidInputError(msg, field="statistic")
        if method not in ("current", "zero"):
            msg = f"contributions complete a running batch with 'current' or 'zero', not {method!r}"
            raise InvalidInputError(msg, field="method")
        n_par, n_times = len(s.parameters), s.grid.size
        if isinstance(batch, pd.DataFrame):
            aligned = self._align(self._one_batch(batch, None))
            batch_id = aligned.batches[0]
            n_e = elapsed(aligned)
            z = complete(self._scale(aligned)[0], n_e, n_par=n_par, n_times=n_times, method=method)[
                -1
            ]
        else:
            if batch not in self._fit_batches:
                msg = (
                    f"batch {batch!r} is not a complete batch of the frame given to fit(); "
                    "pass its trajectories as a frame"
                )
                raise InvalidInputError(msg, field="batch")
            batch_id, z, n_e = batch, self._fit_batches[batch], n_times
        cells = contribution_cells(s, z, n_e, statistic=statistic)
        total = float(cells.sum())
        return pd.DataFrame(
            {
                "batch": [batch_id] * cells.size,
                "statistic": statistic,
                "parameter": np.tile(np.array(s.parameters, dtype=object), n_e),
                "time": np.repeat(s.grid[:n_e], n_par),
                "contribution": cells.reshape(-1),
                "percent": 100.0 * cells.reshape(-1) / total if total != 0 else np.nan,
            }
        )

    def top_contributors(
        self,
        batch: pd.DataFrame | Hashable,
        n: int = 3,
        *,
        statistic: Statistic = "SPE",
        method: Literal["current", "zero"] = "current",
    ) -> list[str]:
        """The ``n`` largest contributions in words (see :func:`top_contributors`)."""
        return top_contributors(self.contributions(batch, statistic=statistic, method=method), n)

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as a JSON-serialisable, versioned dictionary.

        Holds the schema and its version, the versions of vein2vein and the numerical
        stack, parameters, grid, alignment options, reference batch ids, column means
        and SDs, loadings, eigenvalues, the component choice, reference T²/SPE and
        every limit. The batches' data are not stored.
        """
        d = self._s.to_dict()
        d["spe_method"] = self.spe_method
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BatchMSPC:
        """Rebuild a fitted model from :meth:`to_dict` output (limits as stored)."""
        state = FittedState.from_dict(d)
        model = cls(spe_method=d.get("spe_method", "box"))
        model._state = state
        return model

    # ------------------------------------------------------------------ helpers
    def _align(self, df: pd.DataFrame) -> AlignedTrajectories:
        s = self._s
        return align_trajectories(
            df,
            grid=s.grid,
            parameters=s.parameters,
            end_tolerance=s.end_tolerance,
            max_gap=s.max_gap,
        )

    def _scale(self, aligned: AlignedTrajectories) -> NDArray[np.float64]:
        s = self._s
        return (aligned.unfold() - s.mean) / s.sd

    def _one_batch(self, trajectories: pd.DataFrame, batch: Hashable | None) -> pd.DataFrame:
        df = validate_long(trajectories, parameters=self._s.parameters)
        batches = list(pd.unique(df["batch"]))
        if batch is None:
            if len(batches) > 1:
                msg = f"the frame holds {len(batches)} batches; say which with batch="
                raise InvalidInputError(msg, field="batch")
            return df
        if batch not in batches:
            msg = f"batch {batch!r} is not in the frame"
            raise InvalidInputError(msg, field="batch")
        return df[df["batch"] == batch]

    def _frame(
        self,
        batches: list[Hashable],
        t2: NDArray[np.float64],
        spe: NDArray[np.float64],
        *,
        phase: Literal["I", "II"],
    ) -> pd.DataFrame:
        s = self._s
        t2_kind = "T2_phase1" if phase == "I" else "T2_phase2"
        spe_kind = "SPE_box" if self.spe_method == "box" else "SPE_jackson_mudholkar"
        frame = pd.DataFrame({"batch": batches, "T2": t2, "SPE": spe})
        for lv in LEVELS:
            pct = round(lv * 100)
            frame[f"T2_limit_{pct}"] = s.limits[t2_kind][lv]
            frame[f"SPE_limit_{pct}"] = s.limits[spe_kind][lv]
        for name in ("T2", "SPE"):
            for lv in LEVELS:
                pct = round(lv * 100)
                frame[f"{name}_alarm_{pct}"] = frame[name] > frame[f"{name}_limit_{pct}"]
        alarm = frame["T2_alarm_99"] | frame["SPE_alarm_99"]
        warn = frame["T2_alarm_95"] | frame["SPE_alarm_95"]
        frame["status"] = np.where(alarm, "alarm", np.where(warn, "warning", "in control"))
        return frame


def _check_method(method: str) -> None:
    if method not in _METHODS:
        msg = f"method must be one of {', '.join(map(repr, _METHODS))}, got {method!r}"
        raise InvalidInputError(msg, field="method")
