"""Non-compartmental analysis (NCA) of CAR transgene levels after infusion.

One patient's profile of CAR transgene in peripheral blood (qPCR transgene copies/µg
genomic DNA, or flow-cytometry CAR+ cells/µL) against days after infusion (day 0 =
infusion) gives the exposure metrics of CAR-T cellular kinetics: Cmax, Tmax, AUC0-28
(linear trapezoid and linear-up/log-down), Clast/Tlast and persistence.

Rules for values below the lower limit of quantification (BLQ), stated once here and
in :func:`nca`:

* a value is *quantifiable* when it is ``> 0`` and, with ``lloq`` given, ``>= lloq``;
* BLQ values before Tmax count as 0 (no transgene yet detectable);
* BLQ values after Tmax are, by ``blq_after_tmax``, dropped (``"exclude"``, the
  default), set to ``lloq / 2`` (``"half_lloq"``) or set to 0 (``"zero"``);
* Cmax, Tmax, Clast and Tlast use quantifiable values only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from vein2vein.errors import InvalidInputError

__all__ = ["PERSISTENCE_DAYS", "BlqRule", "NCAResult", "nca"]

BlqRule = Literal["exclude", "half_lloq", "zero"]
"""How BLQ values after Tmax enter the AUC: dropped, ``lloq / 2`` or 0."""

PERSISTENCE_DAYS: tuple[float, ...] = (28.0, 90.0, 180.0)
"""Landmark days at which persistence is reported by default."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NCAResult:
    """The non-compartmental exposure metrics of one CAR transgene profile.

    Attributes
    ----------
    unit
        Unit of the levels, e.g. ``"copies/ug"`` (qPCR) or ``"cells/uL"`` (flow).
    auc_unit
        Unit of the AUCs: ``unit`` times day.
    lloq
        Lower limit of quantification used, or None (then only values ``<= 0`` are BLQ).
    blq_after_tmax
        The rule applied to BLQ values after Tmax (see :func:`nca`).
    n_points
        Number of samples given.
    n_quantifiable
        Number of quantifiable samples (``> 0`` and ``>= lloq``).
    n_auc_points
        Number of samples (after the BLQ rules) that entered the AUC, not counting a
        point interpolated at ``auc_end``.
    cmax, tmax
        Highest quantifiable level and the first day it was observed; None when no
        sample is quantifiable.
    clast, tlast
        Last quantifiable level and its day. ``tlast`` is the persistence: the last day
        transgene was above the LLOQ.
    last_sample_day
        Day of the last sample, quantifiable or not (the follow-up).
    auc_end
        Requested end of the AUC interval in days (default 28).
    auc_start_day, auc_stop_day
        The interval actually integrated: from the first sample (0 when a day-0 sample
        exists) to ``auc_end``, or to an earlier day when the profile stops earlier
        (no extrapolation). None when no AUC could be computed.
    auc_linear
        AUC from ``auc_start_day`` to ``auc_stop_day`` by the linear trapezoidal rule.
    auc_lin_log
        The same AUC by the linear-up/log-down rule.
    auc_truncated
        True when ``auc_stop_day < auc_end``: the AUC covers less than the requested
        interval and is *not* comparable with complete AUC0-28 values.
    persistence_days
        The landmark days (default 28, 90, 180).
    persistent
        For each landmark day d: True when a quantifiable sample exists at a day
        ``>= d``; False when samples exist at or after d but none is quantifiable;
        None when the patient was not sampled at or after d (not assessable).
    flags
        Plain-language notes on anything that limits the metrics (truncation, no day-0
        sample, no quantifiable sample, imputed BLQ values).
    """

    unit: str
    auc_unit: str
    lloq: float | None
    blq_after_tmax: str
    n_points: int
    n_quantifiable: int
    n_auc_points: int
    cmax: float | None
    tmax: float | None
    clast: float | None
    tlast: float | None
    last_sample_day: float
    auc_end: float
    auc_start_day: float | None
    auc_stop_day: float | None
    auc_linear: float | None
    auc_lin_log: float | None
    auc_truncated: bool
    persistence_days: tuple[float, ...]
    persistent: tuple[bool | None, ...]
    flags: tuple[str, ...]

    def persistent_at(self, day: float) -> bool | None:
        """Persistence at a landmark ``day`` that was requested (see ``persistent``)."""
        for d, value in zip(self.persistence_days, self.persistent, strict=True):
            if math.isclose(d, day):
                return value
        reason = f"day {day:g} is not a landmark of this result {self.persistence_days}"
        raise InvalidInputError(reason, field="day")

    def to_dict(self) -> dict[str, Any]:
        """All metrics as plain, JSON-ready values; persistence as ``persistent_day_<d>``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("persistence_days", "persistent"):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        for d, value in zip(self.persistence_days, self.persistent, strict=True):
            out[f"persistent_day_{d:g}"] = value
        return out


def as_float_vector(values: npt.ArrayLike, *, name: str) -> FloatArray:
    """``values`` as a finite 1-D float array, or :class:`InvalidInputError` naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        reason = f"must be numbers ({exc})"
        raise InvalidInputError(reason, field=name) from exc
    if arr.ndim != 1:
        reason = f"must be one-dimensional, got shape {arr.shape}"
        raise InvalidInputError(reason, field=name)
    if arr.size == 0:
        reason = "is empty"
        raise InvalidInputError(reason, field=name)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        reason = f"must be finite; position {int(bad[0])} is {arr[bad[0]]!r}"
        raise InvalidInputError(reason, field=name)
    return arr


def check_times(time_days: npt.ArrayLike, *, name: str = "time_days") -> FloatArray:
    """Days after infusion: finite, ``>= 0``, strictly increasing (no duplicates)."""
    t = as_float_vector(time_days, name=name)
    if np.any(t < 0):
        first = float(t[t < 0][0])
        reason = (
            f"day {first:g} is before infusion (day 0); drop pre-infusion samples "
            "from the kinetic profile"
        )
        raise InvalidInputError(reason, field=name)
    step = np.diff(t)
    dup = np.flatnonzero(step == 0)
    if dup.size:
        reason = f"duplicated time: day {t[dup[0]]:g} appears more than once"
        raise InvalidInputError(reason, field=name)
    back = np.flatnonzero(step < 0)
    if back.size:
        i = int(back[0])
        reason = f"times are not sorted ascending: day {t[i + 1]:g} follows day {t[i]:g}"
        raise InvalidInputError(reason, field=name)
    return t


def check_lloq(lloq: float | None) -> float | None:
    """``lloq`` as a positive float, or None."""
    if lloq is None:
        return None
    value = float(lloq)
    if not math.isfinite(value) or value <= 0:
        reason = f"must be a positive number, got {lloq!r}"
        raise InvalidInputError(reason, field="lloq")
    return value


def quantifiable(conc: FloatArray, lloq: float | None) -> npt.NDArray[np.bool_]:
    """Mask of quantifiable levels: ``> 0`` and, with an LLOQ, ``>= lloq``."""
    mask = conc > 0
    if lloq is not None:
        mask &= conc >= lloq
    return mask


def _segment_auc(t1: float, t2: float, c1: float, c2: float, *, log_down: bool) -> float:
    """Area of one interval: log trapezoid when falling between two positive levels."""
    dt = t2 - t1
    if log_down and c1 > c2 > 0:
        return (c1 - c2) * dt / math.log(c1 / c2)
    return 0.5 * (c1 + c2) * dt


def _interpolate(t1: float, t2: float, c1: float, c2: float, at: float, *, log_down: bool) -> float:
    """Level at ``at`` between two samples: log-linear when falling and positive."""
    frac = (at - t1) / (t2 - t1)
    if log_down and c1 > c2 > 0:
        return math.exp(math.log(c1) + frac * (math.log(c2) - math.log(c1)))
    return c1 + frac * (c2 - c1)


def _auc_to(
    t: FloatArray, c: FloatArray, end: float, *, log_down: bool
) -> tuple[float, float] | None:
    """AUC from ``t[0]`` to ``end`` (or to the last sample before it); None if < 2 points."""
    inside = t <= end
    tt = [float(x) for x in t[inside]]
    cc = [float(x) for x in c[inside]]
    after = np.flatnonzero(~inside)
    if tt and after.size and tt[-1] < end:
        j = int(after[0])
        c_end = _interpolate(tt[-1], float(t[j]), cc[-1], float(c[j]), end, log_down=log_down)
        tt.append(end)
        cc.append(c_end)
    if len(tt) < 2:
        return None
    area = sum(
        _segment_auc(tt[i], tt[i + 1], cc[i], cc[i + 1], log_down=log_down)
        for i in range(len(tt) - 1)
    )
    return area, tt[-1]


def nca(
    time_days: npt.ArrayLike,
    conc: npt.ArrayLike,
    *,
    unit: str,
    lloq: float | None = None,
    auc_end: float = 28.0,
    blq_after_tmax: BlqRule = "exclude",
    persistence_days: Sequence[float] = PERSISTENCE_DAYS,
) -> NCAResult:
    """Non-compartmental exposure metrics of one CAR transgene profile.

    Parameters
    ----------
    time_days
        Days after infusion (day 0 = infusion), strictly increasing, ``>= 0``.
        Unsorted or duplicated times are refused (sort and average replicates first).
    conc
        Transgene levels at those days, ``>= 0``: qPCR copies/µg genomic DNA or flow
        CAR+ cells/µL. Report BLQ samples as a value below ``lloq`` (0 is fine).
    unit
        Unit of ``conc`` (free text, carried into the result, e.g. ``"copies/ug"``).
    lloq
        Lower limit of quantification in ``unit``. None: only values ``<= 0`` are BLQ.
    auc_end
        End of the AUC interval in days (default 28: AUC0-28, the exposure metric of
        the tisagenlecleucel studies).
    blq_after_tmax
        BLQ values after Tmax: ``"exclude"`` (dropped; default), ``"half_lloq"``
        (replaced by ``lloq / 2``, needs ``lloq``) or ``"zero"``. BLQ values before
        Tmax are always 0.
    persistence_days
        Landmark days for ``persistent`` (default 28, 90, 180).

    Returns
    -------
    NCAResult
        Cmax/Tmax, Clast/Tlast, AUCs, persistence and flags.

    Notes
    -----
    *AUC.* The AUC runs from the first sample (day 0 when sampled; a later first
    sample is flagged, no value is invented for day 0) to ``auc_end``. When a usable
    sample lies after ``auc_end`` the level at ``auc_end`` is interpolated (linearly
    for the linear rule; log-linearly for a falling segment under linear-up/log-down).
    When the profile stops earlier (last sample before ``auc_end``, or BLQ values
    dropped by ``"exclude"``), the AUC stops at the last usable sample,
    ``auc_truncated`` is True and a flag says so: there is **no extrapolation**.

    *Linear-up/log-down.* A segment whose level falls between two positive values,
    c1 > c2 > 0, contributes ``(c1 - c2) * (t2 - t1) / ln(c1 / c2)`` (the exact area
    under an exponential through both points); rising, flat or zero-touching segments
    use the linear trapezoid ``(c1 + c2) / 2 * (t2 - t1)``.

    *Persistence.* ``tlast`` is the last day above the LLOQ. At each landmark day d,
    persistence is True when some sample at a day ``>= d`` is quantifiable, False when
    the patient was sampled at or after d with every such sample BLQ, and None when
    there is no sample at or after d (follow-up too short to say).

    References
    ----------
    .. [1] Gabrielsson J, Weiner D. *Pharmacokinetic and Pharmacodynamic Data
       Analysis: Concepts and Applications*. 4th ed. Swedish Pharmaceutical Press;
       2006. (Linear and log trapezoidal rules.)
    .. [2] Denney W, Duvvuri S, Buckeridge C. PKNCA: Perform Pharmacokinetic
       Non-Compartmental Analysis. R package, https://github.com/humanpred/pknca;
       reference values in ``tests/testthat/test-auc.R`` (used in our tests).
    .. [3] Beal SL. Ways to fit a PK model with some data below the quantification
       limit. *J Pharmacokinet Pharmacodyn* 2001;28:481-504.
    .. [4] Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular
       kinetic analysis of chimeric antigen receptor-T cells. *CPT Pharmacometrics
       Syst Pharmacol* 2019;8:285-295. doi:10.1002/psp4.12388 (AUC over days 0-28).

    Examples
    --------
    >>> r = nca([0, 4, 7, 14, 21, 28, 90], [0, 800, 16000, 4000, 1000, 250, 20],
    ...         unit="copies/ug", lloq=50)
    >>> r.cmax, r.tmax, r.tlast
    (16000.0, 7.0, 28.0)
    >>> round(r.auc_linear), round(r.auc_lin_log)
    (118675, 106329)
    >>> r.persistent
    (True, False, None)
    """
    t = check_times(time_days)
    c = as_float_vector(conc, name="conc")
    if c.size != t.size:
        reason = f"has {c.size} values but time_days has {t.size}"
        raise InvalidInputError(reason, field="conc")
    if np.any(c < 0):
        reason = f"levels must be >= 0; found {float(c[c < 0][0]):g}"
        raise InvalidInputError(reason, field="conc")
    if not isinstance(unit, str) or not unit.strip():
        reason = "give the unit of conc, e.g. 'copies/ug' or 'cells/uL'"
        raise InvalidInputError(reason, field="unit")
    lq = check_lloq(lloq)
    end = float(auc_end)
    if not math.isfinite(end) or end <= 0:
        reason = f"must be a positive number of days, got {auc_end!r}"
        raise InvalidInputError(reason, field="auc_end")
    if blq_after_tmax not in get_args(BlqRule):
        reason = f"must be one of {get_args(BlqRule)}, got {blq_after_tmax!r}"
        raise InvalidInputError(reason, field="blq_after_tmax")
    if blq_after_tmax == "half_lloq" and lq is None:
        reason = "'half_lloq' needs an lloq"
        raise InvalidInputError(reason, field="blq_after_tmax")
    landmarks = tuple(float(d) for d in persistence_days)
    if any(not math.isfinite(d) or d < 0 for d in landmarks):
        reason = f"must be days >= 0, got {tuple(persistence_days)!r}"
        raise InvalidInputError(reason, field="persistence_days")

    quant = quantifiable(c, lq)
    flags: list[str] = []
    cmax = tmax = clast = tlast = None
    if not quant.any():
        flags.append("no quantifiable sample: Cmax, Tmax, Clast and Tlast are undefined")
        keep = np.ones_like(quant)
        used = np.zeros_like(c)
    else:
        qi = np.flatnonzero(quant)
        imax = int(qi[np.argmax(c[qi])])  # argmax: the first of tied maxima
        cmax, tmax = float(c[imax]), float(t[imax])
        clast, tlast = float(c[qi[-1]]), float(t[qi[-1]])
        used = c.copy()
        keep = np.ones_like(quant)
        before = ~quant & (t < tmax)
        after = ~quant & (t > tmax)
        used[before] = 0.0
        if blq_after_tmax == "exclude":
            keep[after] = False
        elif blq_after_tmax == "half_lloq" and lq is not None:  # lq checked above
            used[after] = lq / 2.0
            if after.any():
                flags.append(f"{int(after.sum())} BLQ value(s) after Tmax set to LLOQ/2")
        else:
            used[after] = 0.0

    t_auc, c_auc = t[keep], used[keep]
    lin = _auc_to(t_auc, c_auc, end, log_down=False)
    linlog = _auc_to(t_auc, c_auc, end, log_down=True)
    start = stop = None
    truncated = False
    if lin is None or linlog is None:
        flags.append(
            f"AUC0-{end:g} not computable: fewer than two usable samples up to day {end:g}"
        )
    else:
        start, stop = float(t_auc[0]), lin[1]
        if start > 0:
            flags.append(
                f"no day-0 sample: the AUC starts at day {start:g} (nothing is assumed for day 0)"
            )
        if stop < end:
            truncated = True
            why = (
                "the last sample is"
                if float(t[-1]) < end
                else "later samples are BLQ and excluded; the last usable sample is"
            )
            flags.append(f"AUC0-{end:g} truncated: {why} at day {stop:g}; not extrapolated")

    persistent: list[bool | None] = []
    for d in landmarks:
        sampled = t >= d
        persistent.append(bool(quant[sampled].any()) if sampled.any() else None)

    return NCAResult(
        unit=unit,
        auc_unit=f"{unit}*day",
        lloq=lq,
        blq_after_tmax=blq_after_tmax,
        n_points=int(t.size),
        n_quantifiable=int(quant.sum()),
        n_auc_points=int(np.count_nonzero(keep & (t <= end))),
        cmax=cmax,
        tmax=tmax,
        clast=clast,
        tlast=tlast,
        last_sample_day=float(t[-1]),
        auc_end=end,
        auc_start_day=start,
        auc_stop_day=stop,
        auc_linear=None if lin is None else lin[0],
        auc_lin_log=None if linlog is None else linlog[0],
        auc_truncated=truncated,
        persistence_days=landmarks,
        persistent=tuple(persistent),
        flags=tuple(flags),
    )
