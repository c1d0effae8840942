"""Follow a patient's product clones through every later sample."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...errors import InvalidInputError
from ..io._tcr import quiet_awkward
from ._clonotypes import ClonotypeDefinition, airr_adata, define_clonotypes
from ._overlap import jaccard, morisita_horn, overlap_matrix
from ._tracking_result import TrackingResult

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

__all__ = ["TrackingResult", "jaccard", "morisita_horn", "timepoint_months", "track_clones"]

_TIMEPOINT = re.compile(r"^\s*M(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


def timepoint_months(timepoint: str) -> float:
    """Months after infusion of a timepoint label ``M<months>`` (``M0`` = the product).

    Parameters
    ----------
    timepoint
        ``M0``, ``M02``, ``M7.5``, ``M11.5``, ``M60`` ...

    Returns
    -------
    float
        The months.

    Raises
    ------
    InvalidInputError
        For any other label (field ``timepoint``).

    Examples
    --------
    >>> [timepoint_months(t) for t in ["M0", "M02", "M7.5", "m60"]]
    [0.0, 2.0, 7.5, 60.0]
    """
    match = _TIMEPOINT.match(str(timepoint))
    if match is None:
        reason = f"timepoint {timepoint!r} is not M<months> (M0 = product, M02, M7.5 ...)"
        raise InvalidInputError(reason, field="timepoint")
    return float(match.group(1))


def _cell_table(
    data: AnnData | MuData,
    *,
    airr_mod: str,
    keys: tuple[str, ...],
    extra: tuple[str, ...],
) -> pd.DataFrame:
    """AIRR obs ``keys`` joined with ``extra`` columns from any modality (CAR, state)."""
    from mudata import MuData

    ad = airr_adata(data, airr_mod=airr_mod)
    table = ad.obs[[k for k in keys if k in ad.obs]].copy()
    for col in extra:
        if col in ad.obs:
            table[col] = ad.obs[col]
        elif isinstance(data, MuData):
            for name, mod in data.mod.items():
                if name != airr_mod and col in mod.obs:
                    table[col] = mod.obs[col].reindex(table.index)
                    break
    return table


def _joint(
    samples: Mapping[str, AnnData | MuData],
    *,
    airr_mod: str,
    sample_key: str,
    timepoint_key: str,
    timepoints: Mapping[str, str] | None,
    extra: tuple[str, ...],
    definition: ClonotypeDefinition,
    clone_key: str,
) -> pd.DataFrame:
    import anndata as ad

    parts = []
    for name, data in samples.items():
        part = airr_adata(data, airr_mod=airr_mod)
        with quiet_awkward():
            part = ad.AnnData(obs=part.obs.copy(), obsm={"airr": part.obsm["airr"]})
            part.obs[sample_key] = name
            if timepoints is not None and name in timepoints:
                part.obs[timepoint_key] = timepoints[name]
            cells = _cell_table(data, airr_mod=airr_mod, keys=(), extra=extra)
            for col in cells.columns:
                part.obs[col] = cells[col].to_numpy()
        parts.append(part)
    columns = sorted({c for part in parts for c in part.obs.columns})
    with quiet_awkward():
        for part in parts:  # same obs columns everywhere, so an inner join keeps them all
            for col in columns:
                if col not in part.obs:
                    part.obs[col] = pd.Series(np.nan, index=part.obs_names, dtype=object)
        joint = ad.concat(parts, join="inner")
    if not joint.obs_names.is_unique:
        reason = "cell names repeat across samples: read each file with read_tcr(sample=...)"
        raise InvalidInputError(reason, field=sample_key)
    define_clonotypes(joint, definition=definition, sample_key=sample_key, key_added=clone_key)
    return _cell_table(
        joint, airr_mod=airr_mod, keys=(sample_key, timepoint_key, clone_key), extra=extra
    )


def track_clones(
    samples: AnnData | MuData | Mapping[str, AnnData | MuData],
    *,
    patient: str | None = None,
    product_timepoint: str = "M0",
    top_n: int = 10,
    clone_key: str = "clone_id",
    sample_key: str = "sample",
    timepoint_key: str = "timepoint",
    patient_key: str = "patient",
    timepoints: Mapping[str, str] | None = None,
    car_key: str = "car_positive",
    state_key: str = "v2v_state",
    definition: ClonotypeDefinition = "nt_identity",
    airr_mod: str = "airr",
) -> TrackingResult:
    """Follow the clones of one patient's infusion product through every later sample.

    Product clones are the clones found in any sample at ``product_timepoint`` (sorted and
    unsorted product pooled). For every sample: the fraction of its cells (with a
    clonotype) that belong to product clones, the same among CAR+ cells when
    ``obs[car_key]`` exists, and its Morisita-Horn overlap [2]_ [3]_ and Jaccard index [4]_
    with the pooled product. The ``top_n`` largest product clones are followed sample by
    sample (present or not, frequency), every pair of samples gets both overlaps, and when
    ``obs[state_key]`` exists the product cells' states are compared between clones that
    persist (seen in any later sample) and clones that do not. Timepoints ``M<months>``
    are ordered as months.

    Parameters
    ----------
    samples
        Either one AnnData/MuData holding all of the patient's samples, with
        ``obs[sample_key]`` and ``obs[timepoint_key]`` (clonotypes are defined on it unless
        ``obs[clone_key]`` exists, which must then have been defined jointly); or a mapping
        sample name -> AnnData/MuData of that sample (from :func:`~vein2vein.singlecell.io.
        read_tcr` with ``sample=`` or the sample loader), which are concatenated and given
        clonotypes jointly, so that clone ids are comparable across samples.
    patient
        Keep only this patient's cells (by ``obs[patient_key]``) where that column exists;
        recorded in the result.
    product_timepoint
        Timepoint label of the infusion product.
    top_n
        Number of largest product clones to follow.
    clone_key, sample_key, timepoint_key, patient_key
        ``obs`` columns.
    timepoints
        Sample -> timepoint, for a mapping whose objects lack ``obs[timepoint_key]``.
    car_key
        Boolean CAR+ column (any modality of a MuData), e.g. from the CAR+ flag.
    state_key
        Cell-state column (any modality).
    definition
        Clonotype definition when clonotypes are defined here (see
        :func:`~vein2vein.singlecell.tl.define_clonotypes`).
    airr_mod
        AIRR modality of a MuData.

    Returns
    -------
    TrackingResult
        ``to_frame()`` gives one row per sample.

    Raises
    ------
    InvalidInputError
        Missing columns, unparseable timepoints, no product sample, or a ``top_n`` below 1.

    References
    ----------
    .. [1] Sturm G, et al. Scirpy. Bioinformatics 2020;36:4817-4818.
    .. [2] Morisita M. Mem Fac Sci Kyushu Univ Ser E (Biol) 1959;3:65-80.
    .. [3] Horn HS. Measurement of "overlap" in comparative ecological studies. Am Nat
       1966;100:419-424.
    .. [4] Jaccard P. The distribution of the flora in the alpine zone. New Phytol
       1912;11:37-50.
    .. [5] Anderson ND, et al. Transcriptional signatures associated with persisting CD19
       CAR-T cells in children with leukemia. Nat Med 2023;29:1700-1709.
    """
    from anndata import AnnData
    from mudata import MuData

    if top_n < 1:
        reason = "top_n must be at least 1"
        raise InvalidInputError(reason, field="top_n")
    extra = (car_key, state_key, patient_key)
    if isinstance(samples, AnnData | MuData):
        ad = airr_adata(samples, airr_mod=airr_mod)
        if clone_key not in ad.obs:
            define_clonotypes(
                samples, definition=definition, sample_key=sample_key, key_added=clone_key
            )
        cells = _cell_table(
            samples, airr_mod=airr_mod, keys=(sample_key, timepoint_key, clone_key), extra=extra
        )
    else:
        cells = _joint(
            samples,
            airr_mod=airr_mod,
            sample_key=sample_key,
            timepoint_key=timepoint_key,
            timepoints=timepoints,
            extra=extra,
            definition=definition,
            clone_key=clone_key,
        )
    for col in (sample_key, timepoint_key):
        if col not in cells:
            reason = "column missing from obs (pass timepoints= for a mapping of samples)"
            raise InvalidInputError(reason, field=col)
    if patient is not None and patient_key in cells:
        cells = cells.loc[cells[patient_key].astype(str) == str(patient)]
    cells = cells.loc[cells[clone_key].notna()].copy()
    if cells.empty:
        reason = "no cell with a clonotype"
        raise InvalidInputError(reason, field=clone_key)
    cells["_sample"] = cells[sample_key].astype(str)
    cells["_clone"] = cells[clone_key].astype(str)
    tp = cells.groupby("_sample")[timepoint_key].agg(lambda s: str(s.iloc[0]))
    months = tp.map(timepoint_months)
    product_months = timepoint_months(product_timepoint)
    product = tuple(sorted(months.index[months == product_months]))
    if not product:
        reason = f"no sample at the product timepoint {product_timepoint!r}"
        raise InvalidInputError(reason, field=timepoint_key)
    order = sorted(months.index, key=lambda s: (months[s], s))
    # clone x sample cell counts (a grouped size: pd.crosstab aggregates in Python, ~10x slower)
    counts = cells.groupby(["_clone", "_sample"]).size().unstack("_sample", fill_value=0)
    counts = counts.reindex(columns=order, fill_value=0).astype(np.int64)
    pooled = counts[list(product)].sum(axis=1)
    in_product = pooled > 0
    later = [s for s in order if s not in product]
    persists = (counts[later] > 0).any(axis=1) & in_product if later else in_product & False
    cells["_in_product"] = cells["_clone"].map(in_product)
    has_car = car_key in cells
    if has_car:
        car = cells[car_key].astype("boolean").fillna(value=False).astype(bool)
    rows = []
    for s in order:
        sel = cells["_sample"] == s
        row: dict[str, Any] = {
            "sample": s,
            "timepoint": tp[s],
            "months": months[s],
            "is_product": s in product,
            "n_cells": int(sel.sum()),
            "n_clones": int((counts[s] > 0).sum()),
            "fraction_in_product_clones": float(cells.loc[sel, "_in_product"].mean()),
            "n_product_clones_present": int(((counts[s] > 0) & in_product).sum()),
            "n_car_positive": np.nan,
            "fraction_car_positive_in_product_clones": np.nan,
        }
        if has_car:
            car_sel = sel & car
            row["n_car_positive"] = int(car_sel.sum())
            if car_sel.any():
                frac = float(cells.loc[car_sel, "_in_product"].mean())
                row["fraction_car_positive_in_product_clones"] = frac
        row["morisita_horn_to_product"] = morisita_horn(counts[s], pooled)
        row["jaccard_to_product"] = jaccard(counts[s], pooled)
        rows.append(row)
    per_sample = pd.DataFrame(rows)
    top = pooled[in_product].reset_index().set_axis(["clone_id", "n"], axis=1)
    top = top.sort_values(["n", "clone_id"], ascending=[False, True]).head(top_n)
    frequencies = counts / counts.sum(axis=0)
    top_rows = [
        {
            "clone_id": clone,
            "rank": rank,
            "product_cells": int(n),
            "persists": bool(persists[clone]),
            "sample": s,
            "timepoint": tp[s],
            "months": months[s],
            "cells": int(counts.loc[clone, s]),
            "frequency": float(frequencies.loc[clone, s]),
            "present": bool(counts.loc[clone, s] > 0),
        }
        for rank, (clone, n) in enumerate(zip(top["clone_id"], top["n"], strict=True), start=1)
        for s in order
    ]
    state_origin = None
    if state_key in cells:
        prod = cells.loc[cells["_sample"].isin(product) & cells[state_key].notna()]
        group = prod["_clone"].map(persists).map({True: "persisting", False: "not_persisting"})
        n = pd.crosstab(prod[state_key].astype(str), group)
        n = n.reindex(columns=["persisting", "not_persisting"], fill_value=0)
        state_origin = pd.concat(
            [n.add_prefix("n_"), (n / n.sum(axis=0).replace(0, np.nan)).add_prefix("fraction_")],
            axis=1,
        )
    return TrackingResult(
        patient=patient,
        product_timepoint=product_timepoint,
        product_samples=product,
        samples=per_sample,
        top_clones=pd.DataFrame(top_rows),
        morisita_horn=overlap_matrix(counts, morisita_horn),
        jaccard=overlap_matrix(counts, jaccard),
        state_origin=state_origin,
        params={
            "top_n": top_n,
            "clone_key": clone_key,
            "definition": definition,
            "n_product_clones": int(in_product.sum()),
            "n_persisting_product_clones": int(persists.sum()),
        },
    )
