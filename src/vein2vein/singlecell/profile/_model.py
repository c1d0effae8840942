"""The :class:`ProductProfile` model: one sample condensed, versioned, JSON round-trip."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...errors import InvalidInputError

__all__ = [
    "CAR_CAVEAT",
    "PROFILE_SCHEMA_VERSION",
    "InputFile",
    "ProductProfile",
    "ScoreSummary",
    "load_profile",
    "profiles_table",
    "save_profile",
]

PROFILE_SCHEMA_VERSION: Final = 1
"""The version of the profile JSON format that this code writes and reads."""

CAR_CAVEAT: Final = (
    "CAR+ fraction counts cells with transgene UMIs at or above the threshold; "
    "5' capture drops many transcripts of the CAR, so it underestimates the true share"
)


class InputFile(BaseModel):
    """One input file of a profile: its role, name and SHA-256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ScoreSummary(BaseModel):
    """The distribution of a signature score over cells: median and quartiles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    median: float
    q1: float
    q3: float
    n: int

    @property
    def iqr(self) -> float:
        """Interquartile range, ``q3 - q1``."""
        return self.q3 - self.q1


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ProductProfile(BaseModel):
    """A CAR-T product (or follow-up sample) condensed to comparable numbers.

    Versioned (``schema_version``), stamped with the package version, the SHA-256 of
    every input file, every parameter and the seed, so that the same inputs and
    parameters give the same profile, byte for byte.

    Attributes
    ----------
    schema_version
        Version of this format (:data:`PROFILE_SCHEMA_VERSION`).
    sample, patient, timepoint, source, sort
        The sample-sheet row (``timepoint`` ``M0`` is the infusion product).
    package_version
        The vein2vein version that made the profile.
    inputs
        The input files with their SHA-256.
    parameters
        Every parameter of every step (QC thresholds, HVGs, PCs, neighbours, Leiden
        resolution, CAR feature and threshold, gene sets...).
    seed
        The random seed of the embedding and the downsampled diversity.
    provenance
        ``None`` for real data; the synthetic label for synthetic inputs.
    n_cells
        Cells after quality control.
    car_positive_fraction, car_caveat
        Share of CAR+ cells, and why it is a lower bound.
    cd4_cd8_ratio
        CD4 cells over CD8 cells (``None`` without CD8 cells or without a call).
    state_fractions, state_fractions_car
        Share of each cell state, over all cells and over CAR+ cells.
    signature_scores
        Median and quartiles of each signature score.
    n_cells_tcr, n_clonotypes
        Cells with a TCR and distinct clonotypes (``None`` without TCR data).
    diversity
        Diversity metrics by name (Shannon, Pielou, Simpson, Gini, clonality, D50,
        Chao1..., and their downsampled values with a ``_downsampled`` suffix).
    qc
        Quality-control summary (cells before and after, medians of genes, UMIs and
        mitochondrial share, doublets).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = PROFILE_SCHEMA_VERSION
    sample: str = Field(min_length=1)
    patient: str | None = None
    timepoint: str | None = None
    source: str | None = None
    sort: str | None = None
    package_version: str
    inputs: list[InputFile] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    provenance: str | None = None
    n_cells: int = Field(ge=0)
    car_positive_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    car_caveat: str = CAR_CAVEAT
    cd4_cd8_ratio: float | None = Field(default=None, ge=0.0)
    state_fractions: dict[str, float] = Field(default_factory=dict)
    state_fractions_car: dict[str, float] = Field(default_factory=dict)
    signature_scores: dict[str, ScoreSummary] = Field(default_factory=dict)
    n_cells_tcr: int | None = None
    n_clonotypes: int | None = None
    diversity: dict[str, float | None] = Field(default_factory=dict)
    qc: dict[str, float | int | None] = Field(default_factory=dict)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != PROFILE_SCHEMA_VERSION:
            msg = (
                f"schema_version {value} is not a version this vein2vein reads (it reads "
                f"{PROFILE_SCHEMA_VERSION}); profile the sample again with this release"
            )
            raise ValueError(msg)
        return value

    @field_validator("diversity", "qc", mode="before")
    @classmethod
    def _no_nan(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _finite_or_none(v) for k, v in value.items()}
        return value

    def to_json(self) -> str:
        """The profile as canonical JSON (sorted keys, two-space indent, final newline)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def sha256(self) -> str:
        """SHA-256 of :meth:`to_json` (UTF-8): the profile file's fingerprint."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def metrics(self) -> dict[str, float]:
        """The profile's numbers as one flat mapping (for cohorts and the batch record).

        Keys: ``car_positive_fraction``, ``cd4_cd8_ratio``, ``state.<s>``,
        ``state_car.<s>``, ``score.<name>.median`` / ``.iqr``, ``diversity.<metric>``,
        ``n_cells``, ``n_clonotypes``. Missing values are left out.
        """
        out: dict[str, float] = {"n_cells": float(self.n_cells)}
        if self.car_positive_fraction is not None:
            out["car_positive_fraction"] = self.car_positive_fraction
        if self.cd4_cd8_ratio is not None:
            out["cd4_cd8_ratio"] = self.cd4_cd8_ratio
        out |= {f"state.{k}": v for k, v in self.state_fractions.items()}
        out |= {f"state_car.{k}": v for k, v in self.state_fractions_car.items()}
        for name, s in self.signature_scores.items():
            out[f"score.{name}.median"] = s.median
            out[f"score.{name}.iqr"] = s.iqr
        out |= {f"diversity.{k}": v for k, v in self.diversity.items() if v is not None}
        if self.n_clonotypes is not None:
            out["n_clonotypes"] = float(self.n_clonotypes)
        return out


def profiles_table(profiles: Iterable[ProductProfile]) -> pd.DataFrame:
    """One row per profile: who it is, its SHA-256 and every number of :meth:`metrics`.

    Parameters
    ----------
    profiles
        The profiles (e.g. of a cohort, read with :func:`load_profile`).

    Returns
    -------
    pandas.DataFrame
        ``sample``, ``patient``, ``timepoint``, ``source``, ``sort``, ``provenance``,
        ``sha256``, then the metric columns (NaN where a profile lacks one), in the order
        first seen.
    """
    rows = [
        {
            "sample": p.sample,
            "patient": p.patient,
            "timepoint": p.timepoint,
            "source": p.source,
            "sort": p.sort,
            "provenance": p.provenance,
            "sha256": p.sha256(),
            **p.metrics(),
        }
        for p in profiles
    ]
    return pd.DataFrame(rows)


def save_profile(profile: ProductProfile, path: str | Path) -> Path:
    """Write ``profile`` as canonical JSON (:meth:`ProductProfile.to_json`).

    Parameters
    ----------
    profile
        The profile.
    path
        The file to write (its folder must exist).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    target = Path(path)
    target.write_text(profile.to_json(), encoding="utf-8")
    return target


def load_profile(path: str | Path) -> ProductProfile:
    """Read a profile JSON file, refusing an unknown ``schema_version`` or missing fields.

    Parameters
    ----------
    path
        A file written by :func:`save_profile`.

    Returns
    -------
    ProductProfile
        The profile.

    Raises
    ------
    InvalidInputError
        The file cannot be read, is not JSON, has another ``schema_version`` or lacks or
        mistypes a field; the error names the file and the field.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read: {exc}"
        raise InvalidInputError(msg, file=str(source)) from None
    try:
        return ProductProfile.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        kind = first["type"]
        if kind == "json_invalid":
            msg = f"not a profile JSON file: {first['msg']}"
        elif kind == "missing":
            msg = "a required field of the profile is missing (not a ProductProfile file?)"
        else:
            msg = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInputError(msg, file=str(source), field=field) from None
