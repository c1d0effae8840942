"""The fitted state of a batch MSPC model and its versioned dictionary form."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidInputError
from ._limits import (
    spe_limit_box,
    spe_limit_jackson_mudholkar,
    t2_limit_phase1,
    t2_limit_phase2,
)

__all__ = ["LEVELS", "SCHEMA", "SCHEMA_VERSION", "FittedState", "compute_limits"]

SCHEMA = "vein2vein.process.mspc.BatchMSPC"
SCHEMA_VERSION = 1
LEVELS = (0.95, 0.99)
UNFOLDING = "batch-wise, time-major: column k*J + j holds parameter j at grid time k"

#: Keys of :attr:`FittedState.limits`.
LIMIT_KINDS = ("T2_phase1", "T2_phase2", "SPE_box", "SPE_jackson_mudholkar")


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in ("vein2vein", "numpy", "scipy", "scikit-learn", "pandas"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "unknown"
    return out


@dataclass(frozen=True, slots=True, eq=False)
class FittedState:
    """Everything a fitted :class:`~vein2vein.process.mspc.BatchMSPC` needs to score.

    Arrays follow the time-major unfolding (column ``k * J + j``). ``limits`` maps a
    kind in :data:`LIMIT_KINDS` to ``{level: limit}``; ``spe_time_limits`` maps a
    level to the K time-resolved SPE limits.
    """

    parameters: tuple[str, ...]
    grid: NDArray[np.float64]
    end_tolerance: float
    max_gap: float | None
    reference_batches: tuple[Hashable, ...]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    zero_variance: NDArray[np.bool_]
    n_components: int
    component_selection: str
    variance_threshold: float | None
    spe_reference: str
    spe_window: int
    loadings: NDArray[np.float64]
    score_variances: NDArray[np.float64]
    eigenvalues: NDArray[np.float64]
    reference_scores: NDArray[np.float64]
    reference_t2: NDArray[np.float64]
    reference_spe: NDArray[np.float64]
    spe_time_mean: NDArray[np.float64]
    spe_time_var: NDArray[np.float64]
    limits: dict[str, dict[float, float]]
    spe_time_limits: dict[float, NDArray[np.float64]]
    versions: dict[str, str]

    @property
    def n_batches(self) -> int:
        """Number of reference batches, I."""
        return len(self.reference_batches)

    # ------------------------------------------------------------------ dict form
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary (NaN written as None)."""

        def floats(a: NDArray[np.float64] | list[float]) -> list[float | None]:
            return [None if not math.isfinite(x) else float(x) for x in np.ravel(a)]

        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "versions": dict(self.versions),
            "parameters": list(self.parameters),
            "grid": floats(self.grid),
            "end_tolerance": self.end_tolerance,
            "max_gap": self.max_gap,
            "reference_batches": [_plain(b) for b in self.reference_batches],
            "unfolding": UNFOLDING,
            "scaling": {
                "mean": floats(self.mean),
                "sd": floats(self.sd),
                "zero_variance_columns": [int(c) for c in np.flatnonzero(self.zero_variance)],
            },
            "pca": {
                "n_components": self.n_components,
                "component_selection": self.component_selection,
                "variance_threshold": self.variance_threshold,
                "loadings": [floats(row) for row in self.loadings],
                "score_variances": floats(self.score_variances),
                "eigenvalues": floats(self.eigenvalues),
            },
            "reference": {
                "SPE_basis": self.spe_reference,
                "SPE_time_window": self.spe_window,
                "T2": floats(self.reference_t2),
                "SPE": floats(self.reference_spe),
                "scores": [floats(row) for row in self.reference_scores],
                "SPE_time_mean": floats(self.spe_time_mean),
                "SPE_time_variance": floats(self.spe_time_var),
            },
            "limits": {
                kind: {str(level): _nan_to_none(v) for level, v in by_level.items()}
                for kind, by_level in self.limits.items()
            }
            | {
                "SPE_time_box": {str(level): floats(v) for level, v in self.spe_time_limits.items()}
            },
        }

    @classmethod
    def from_dict(cls, d: object) -> FittedState:
        """Rebuild the state from :meth:`to_dict` output; refuses other schemas."""
        if not isinstance(d, Mapping):
            msg = f"a model dictionary is needed, got {type(d).__name__}"
            raise InvalidInputError(msg, field="model")
        if d.get("schema") != SCHEMA:
            msg = f"not a batch MSPC model (schema {d.get('schema')!r}, expected {SCHEMA!r})"
            raise InvalidInputError(msg, field="schema")
        if d.get("schema_version") != SCHEMA_VERSION:
            msg = (
                f"model schema_version {d.get('schema_version')!r} is not supported by this "
                f"vein2vein (reads version {SCHEMA_VERSION}); refit the model or upgrade"
            )
            raise InvalidInputError(msg, field="schema_version")
        try:
            scaling, pca, ref, lim = d["scaling"], d["pca"], d["reference"], d["limits"]
            n_cols = len(d["parameters"]) * len(d["grid"])
            zero = np.zeros(n_cols, dtype=bool)
            zero[np.asarray(scaling["zero_variance_columns"], dtype=int)] = True
            n_comp = int(pca["n_components"])
            limits = {
                kind: {float(level): _none_to_nan(v) for level, v in lim[kind].items()}
                for kind in LIMIT_KINDS
            }
            state = cls(
                parameters=tuple(str(p) for p in d["parameters"]),
                grid=_arr(d["grid"]),
                end_tolerance=float(d["end_tolerance"]),
                max_gap=None if d["max_gap"] is None else float(d["max_gap"]),
                reference_batches=tuple(d["reference_batches"]),
                mean=_arr(scaling["mean"]),
                sd=_arr(scaling["sd"]),
                zero_variance=zero,
                n_components=n_comp,
                component_selection=str(pca["component_selection"]),
                variance_threshold=(
                    None if pca["variance_threshold"] is None else float(pca["variance_threshold"])
                ),
                loadings=_arr(pca["loadings"]).reshape(n_comp, n_cols),
                score_variances=_arr(pca["score_variances"]),
                eigenvalues=_arr(pca["eigenvalues"]),
                spe_reference=str(ref["SPE_basis"]),
                spe_window=int(ref["SPE_time_window"]),
                reference_scores=_arr(ref["scores"]).reshape(-1, n_comp),
                reference_t2=_arr(ref["T2"]),
                reference_spe=_arr(ref["SPE"]),
                spe_time_mean=_arr(ref["SPE_time_mean"]),
                spe_time_var=_arr(ref["SPE_time_variance"]),
                limits=limits,
                spe_time_limits={float(level): _arr(v) for level, v in lim["SPE_time_box"].items()},
                versions={str(k): str(v) for k, v in d.get("versions", {}).items()},
            )
        except KeyError as exc:
            msg = f"the model dictionary lacks {exc.args[0]!r}"
            raise InvalidInputError(msg, field=str(exc.args[0])) from exc
        except (TypeError, ValueError) as exc:
            msg = f"the model dictionary does not have the expected shape: {exc}"
            raise InvalidInputError(msg, field="model") from exc
        k = state.grid.size
        if state.mean.size != n_cols or state.sd.size != n_cols or state.spe_time_mean.size != k:
            msg = "the model's scaling or SPE arrays do not match its parameters and grid"
            raise InvalidInputError(msg, field="scaling")
        return state


def compute_limits(
    *,
    n_batches: int,
    n_components: int,
    eigenvalues: NDArray[np.float64],
    reference_spe: NDArray[np.float64],
    spe_time_mean: NDArray[np.float64],
    spe_time_var: NDArray[np.float64],
) -> tuple[dict[str, dict[float, float]], dict[float, NDArray[np.float64]]]:
    """All limits at :data:`LEVELS`: T² (Phase I Beta, Phase II F), SPE (Box, J-M), SPE(k)."""
    m, v = float(np.mean(reference_spe)), float(np.var(reference_spe, ddof=1))
    residual = eigenvalues[n_components:]
    limits: dict[str, dict[float, float]] = {
        "T2_phase1": {lv: t2_limit_phase1(n_batches, n_components, lv) for lv in LEVELS},
        "T2_phase2": {lv: t2_limit_phase2(n_batches, n_components, lv) for lv in LEVELS},
        "SPE_box": {lv: spe_limit_box(m, v, lv) for lv in LEVELS},
        "SPE_jackson_mudholkar": {lv: spe_limit_jackson_mudholkar(residual, lv) for lv in LEVELS},
    }
    time_limits = {
        lv: np.array(
            [
                spe_limit_box(float(mk), float(vk), lv)
                for mk, vk in zip(spe_time_mean, spe_time_var, strict=True)
            ]
        )
        for lv in LEVELS
    }
    return limits, time_limits


def new_versions() -> dict[str, str]:
    """Versions of vein2vein and the numerical stack, stamped on a fitted model."""
    return _versions()


def _plain(x: Hashable) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _nan_to_none(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _none_to_nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _arr(x: Any) -> NDArray[np.float64]:
    return np.array(x, dtype=float)  # None becomes NaN
