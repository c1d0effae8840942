"""The product profile: one sample condensed into a versioned :class:`ProductProfile`.

:func:`profile_sample` runs the whole pipeline on a sample-sheet row;
:func:`build_profile` condenses an analysed AnnData/MuData, reading the documented keys
of the ``pp``/``tl`` functions (``obs["car_positive"]``, ``obs["v2v_state"]``,
``obs["v2v_lineage"]``, ``obs["v2v_score_<name>"]``, ``obs["clone_id"]``,
``uns["v2v_diversity"]``, ``uns["v2v_qc"]``); :func:`compare_cohort` compares profiles
between outcome groups at the patient level; :func:`profile_report` writes the HTML
report; :func:`record_profile` stores the numbers as report-only results on a batch.

``_model`` is the versioned profile itself, ``_pipeline`` the standard run of
``io``/``pp``/``tl`` on one sample, ``_scale`` the same over many samples (Dask, GPU when
present), ``_cohort`` the patient-level comparison and ``_report`` the HTML report.

Imports: ``io``, ``pp``, ``tl``, ``pl``; ``records``, ``release`` and ``specs`` for
:func:`record_profile`, which receives the unit of work it writes in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import vein2vein

from ...errors import InvalidInputError
from ._cohort import AGGREGATION_RULE, CohortComparison, compare_cohort, read_groups
from ._model import (
    CAR_CAVEAT,
    PROFILE_SCHEMA_VERSION,
    InputFile,
    ProductProfile,
    ScoreSummary,
    load_profile,
    profiles_table,
    save_profile,
)
from ._pipeline import ProfileParams
from ._report import profile_report

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

    from ...records import AssayResult, UnitOfWork
    from ..io._sample_sheet import Sample

__all__ = [
    "AGGREGATION_RULE",
    "CAR_CAVEAT",
    "PROFILE_SCHEMA_VERSION",
    "CohortComparison",
    "InputFile",
    "ProductProfile",
    "ProfileParams",
    "ScoreSummary",
    "build_profile",
    "compare_cohort",
    "load_profile",
    "profile_report",
    "profile_sample",
    "profiles_table",
    "read_groups",
    "record_profile",
    "save_profile",
]

_META = ("sample", "patient", "timepoint", "source", "sort")


def _fractions(values: pd.Series) -> dict[str, float]:
    counts = values.dropna().astype(str).value_counts(normalize=True).sort_index()
    return {str(k): float(v) for k, v in counts.items()}


def _meta(gex: AnnData, given: Mapping[str, Any] | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key in _META:
        value = (given or {}).get(key)
        if value is None and key in gex.obs and gex.n_obs:
            firsts = gex.obs[key].astype(str).unique()
            value = firsts[0] if len(firsts) == 1 else None
        out[key] = None if value is None else str(value)
    return out


def _qc_summary(gex: AnnData) -> dict[str, float | int | None]:
    qc: dict[str, float | int | None] = {"n_cells": int(gex.n_obs)}
    record = gex.uns.get("v2v_qc", {})
    table = record.get("per_sample")
    if isinstance(table, pd.DataFrame) and len(table) == 1:
        for key, value in table.iloc[0].items():
            number = isinstance(value, int | float | np.integer | np.floating)
            if number and not isinstance(value, bool | np.bool_):
                qc[str(key)] = value.item() if isinstance(value, np.generic) else value
        if "doublets_scored" in table and not bool(table["doublets_scored"].iloc[0]):
            qc["doublet_rate"] = None  # too few cells for scrublet: not a rate of 0
    for key in ("n_cells_before", "n_cells_after", "n_doublets"):
        if key in record:
            qc[key] = int(record[key])
    for column, name in (
        ("n_genes_by_counts", "median_genes"),
        ("total_counts", "median_umis"),
        ("pct_counts_mt", "median_pct_mito"),
    ):
        if column in gex.obs and gex.n_obs and not isinstance(table, pd.DataFrame):
            qc[name] = float(np.median(gex.obs[column].to_numpy(float)))
    return qc


def _diversity(gex: AnnData) -> dict[str, float | None]:
    record = gex.uns.get("v2v_diversity")
    if not record or "table" not in record:
        return {}
    table = record["table"]
    row = table.iloc[0] if len(table) else pd.Series(dtype=float)
    out: dict[str, float | None] = {}
    for key, value in row.items():
        if key in ("n_cells", "n_clones"):
            continue
        number = float(value) if pd.notna(value) else None
        out[str(key)] = number
    return out


def build_profile(
    data: AnnData | MuData,
    *,
    sample_meta: Mapping[str, Any] | None = None,
    inputs: Sequence[InputFile] = (),
    parameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    provenance: str | None = None,
    car_key: str = "car_positive",
    state_key: str = "v2v_state",
    lineage_key: str = "v2v_lineage",
    score_prefix: str = "v2v_score_",
    clone_key: str = "clone_id",
) -> ProductProfile:
    """Condense one analysed sample into a :class:`ProductProfile`.

    Parameters
    ----------
    data
        The sample's GEX AnnData (after the pipeline), or a MuData whose ``"gex"``
        modality is that AnnData.
    sample_meta
        ``sample, patient, timepoint, source, sort`` (taken from ``obs`` where missing).
    inputs
        The input files with their SHA-256.
    parameters
        Every parameter used (recorded verbatim).
    seed
        The random seed used.
    provenance
        The synthetic label for synthetic inputs (default: ``uns["provenance"]``).
    car_key, state_key, lineage_key, score_prefix, clone_key
        The ``obs`` keys of the CAR+ flag, the cell state, the CD4/CD8 call, the
        signature scores and the clonotype.

    Returns
    -------
    ProductProfile
        The profile; absent keys leave their fields empty (``None`` or ``{}``).

    Raises
    ------
    InvalidInputError
        No sample name, or a MuData without a ``"gex"`` modality.
    """
    from anndata import AnnData

    if isinstance(data, AnnData):
        gex = data
    else:
        if "gex" not in data.mod:
            msg = "the MuData has no 'gex' modality to profile"
            raise InvalidInputError(msg, field="gex")
        gex = data.mod["gex"]
    meta = _meta(gex, sample_meta)
    if not meta["sample"]:
        msg = "the profile needs a sample name (sample_meta['sample'] or obs['sample'])"
        raise InvalidInputError(msg, field="sample")
    obs = gex.obs
    car = obs[car_key].astype(bool) if car_key in obs else None
    fields: dict[str, Any] = {}
    if car is not None and gex.n_obs:
        fields["car_positive_fraction"] = float(car.mean())
    if lineage_key in obs:
        lineage = obs[lineage_key].astype(str)
        n4, n8 = int((lineage == "CD4").sum()), int((lineage == "CD8").sum())
        fields["cd4_cd8_ratio"] = n4 / n8 if n8 else None
    if state_key in obs:
        fields["state_fractions"] = _fractions(obs[state_key])
        if car is not None and car.any():
            fields["state_fractions_car"] = _fractions(obs.loc[car.to_numpy(), state_key])
    scores = {}
    for column in obs.columns:
        if str(column).startswith(score_prefix):
            values = obs[column].to_numpy(float)
            values = values[np.isfinite(values)]
            if values.size:
                q1, med, q3 = np.percentile(values, [25, 50, 75])
                scores[str(column)[len(score_prefix) :]] = ScoreSummary(
                    median=float(med), q1=float(q1), q3=float(q3), n=int(values.size)
                )
    if clone_key in obs:
        clones = obs[clone_key].dropna().astype(str)
        clones = clones[~clones.isin(["nan", ""])]
        fields["n_cells_tcr"] = int(clones.size)
        fields["n_clonotypes"] = int(clones.nunique())
    return ProductProfile(
        schema_version=PROFILE_SCHEMA_VERSION,
        **meta,
        package_version=vein2vein.__version__,
        inputs=list(inputs),
        parameters=dict(parameters or gex.uns.get("v2v_pipeline", {}).get("params", {})),
        seed=seed,
        provenance=provenance or gex.uns.get("provenance"),
        n_cells=int(gex.n_obs),
        signature_scores=scores,
        diversity=_diversity(gex),
        qc=_qc_summary(gex),
        **fields,
    )


def profile_sample(
    sample: Sample, *, params: ProfileParams | None = None
) -> tuple[ProductProfile, AnnData]:
    """Run the whole pipeline on one sample-sheet row and build its profile.

    Loads the sample (:func:`~vein2vein.singlecell.io.load_sample`), runs quality
    control, the CAR+ call, the embedding, signature scores, state calls and
    clonotypes with ``params``, and condenses the result with :func:`build_profile`,
    recording the SHA-256 of every input file.

    Parameters
    ----------
    sample
        A row of a :class:`~vein2vein.singlecell.io.SampleSheet` (with a GEX file).
    params
        The pipeline's parameters (defaults: :class:`ProfileParams`).

    Returns
    -------
    tuple
        The profile and the analysed GEX AnnData.

    Raises
    ------
    InvalidInputError
        The sample has no GEX file, or a file cannot be read.
    """
    from ._pipeline import profile_one

    return profile_one(sample, params or ProfileParams())


#: The ``method`` of recorded profile results: the profile JSON's SHA-256 follows.
RECORD_METHOD = "scRNA-seq profile sha256:"


def _analyte(key: str) -> str:
    return "sc." + re.sub(r"[^a-z0-9_.-]+", "_", key.lower()).strip("_")


_PRODUCT_TIMEPOINT = re.compile(r"^M0+(?:\.0+)?$")


def _check_identity(uow: UnitOfWork, profile: ProductProfile, batch: str) -> None:
    """The profile must be of this batch's patient and of the product (timepoint ``M0``)."""
    from ...records import Batch, require

    require(uow.actor, "result.enter")
    lot = uow.get(Batch, batch)
    expected = lot.patient.patient_code
    where = f"profile {profile.sample}"
    if profile.patient is None or not profile.patient.strip():
        msg = (
            f"{where} names no patient; it cannot be matched to batch {lot.batch_code} "
            f"(patient {expected})"
        )
        raise InvalidInputError(msg, field="patient")
    if profile.patient.strip() != expected:
        msg = (
            f"{where} is of patient {profile.patient!r}, but batch {lot.batch_code} was "
            f"made for patient {expected}"
        )
        raise InvalidInputError(msg, field="patient")
    if profile.timepoint is None or not _PRODUCT_TIMEPOINT.match(profile.timepoint.strip()):
        msg = (
            f"{where} is of timepoint {profile.timepoint!r}, not the product (M0); a sample "
            "taken after infusion is not a result of the batch"
        )
        raise InvalidInputError(msg, field="timepoint")


def record_profile(uow: UnitOfWork, profile: ProductProfile, *, batch: str) -> list[AssayResult]:
    """Store a profile's numbers as report-only results on a batch, audited.

    The profile must belong to the batch: its ``patient`` is the batch's patient and
    its ``timepoint`` is the product (``M0``); anything else is refused, naming the field,
    so that no patient's or post-infusion sample's numbers enter a lot's record (chain of
    identity, 21 CFR 211.188 and 1271.290).

    Each value of :meth:`ProductProfile.metrics` becomes one assay result with the
    analyte ``sc.<metric>`` (lower case, other characters as ``_``), entered through
    :func:`vein2vein.release.enter_results` against a specification whose items are all
    of kind ``report`` (report only, never fails): no result opens an OOS investigation,
    and since the items are not part of the lot-release specification they never change
    a disposition. The ``method`` of every result is ``"scRNA-seq profile sha256:"``
    followed by the SHA-256 of the profile JSON (:meth:`ProductProfile.sha256`), the
    reference to the source.

    Parameters
    ----------
    uow
        A unit of work whose actor may enter results.
    profile
        The profile.
    batch
        The batch code.

    Returns
    -------
    list of AssayResult
        The stored results.

    Raises
    ------
    InvalidInputError
        The profile names no patient or another patient than the batch's (field
        ``patient``), or is not of the product timepoint ``M0`` (field ``timepoint``).
    """
    from datetime import date

    from ...release import ResultRow, enter_results
    from ...specs import Criterion, Specification, SpecItem

    _check_identity(uow, profile, batch)
    sha = profile.sha256()
    metrics = {_analyte(k): v for k, v in sorted(profile.metrics().items())}
    spec = Specification(
        schema_version=1,
        id="single-cell-profile",
        title="Single-cell product profile (report only)",
        version=str(PROFILE_SCHEMA_VERSION),
        effective_date=date(2026, 1, 1),
        product="CAR-T cell product",
        stage="final_product",
        source="vein2vein.singlecell.profile",
        items=[
            SpecItem(analyte=a, name=a, criterion=Criterion(kind="report"), stage="final_product")
            for a in metrics
        ],
    )
    rows = [
        ResultRow(
            batch=batch,
            analyte=a,
            value=f"{v:.6g}",
            method=RECORD_METHOD + sha,
        )
        for a, v in metrics.items()
    ]
    return enter_results(uow, rows, spec=spec, source=f"profile {profile.sample}").results
