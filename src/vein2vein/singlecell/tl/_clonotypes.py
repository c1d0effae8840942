"""Clonotypes through scirpy, with chain QC, clone sizes and expansion classes."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ...errors import InvalidInputError
from ..io._tcr import quiet_awkward

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

__all__ = ["CLONOTYPE_DEFINITIONS", "EXPANSION_CLASSES", "airr_adata", "define_clonotypes"]

ClonotypeDefinition = Literal["nt_identity", "aa_identity", "beta_nt"]

#: Named clonotype definitions: the options passed to :func:`scirpy.pp.ir_dist` and
#: :func:`scirpy.tl.define_clonotype_clusters`.
CLONOTYPE_DEFINITIONS: dict[str, dict[str, Any]] = {
    # identical CDR3 nucleotides of the primary alpha and the primary beta chain
    "nt_identity": {
        "sequence": "nt",
        "receptor_arms": "all",
        "dual_ir": "primary_only",
        "same_v_gene": False,
    },
    # identical CDR3 amino acids and V genes of the primary alpha and beta chains
    "aa_identity": {
        "sequence": "aa",
        "receptor_arms": "all",
        "dual_ir": "primary_only",
        "same_v_gene": True,
    },
    # identical CDR3 nucleotides of the primary beta chain alone (robust to alpha dropout)
    "beta_nt": {
        "sequence": "nt",
        "receptor_arms": "VDJ",
        "dual_ir": "primary_only",
        "same_v_gene": False,
    },
}
#: Expansion classes by the number of cells of the clone in its sample.
EXPANSION_CLASSES = ("1", "2", "3-10", ">10")
_EXCLUDED_PAIRINGS = ("no IR", "multichain", "ambiguous")


def airr_adata(data: AnnData | MuData, *, airr_mod: str = "airr") -> AnnData:
    """Return the AnnData that holds ``obsm["airr"]``: the modality of a MuData, or itself.

    Parameters
    ----------
    data
        TCR-only AnnData (from :func:`~vein2vein.singlecell.io.read_tcr`) or a MuData.
    airr_mod
        The AIRR modality of a MuData.

    Returns
    -------
    AnnData
        The AIRR AnnData (not a copy).

    Raises
    ------
    InvalidInputError
        When there is no AIRR data.
    """
    from mudata import MuData

    if isinstance(data, MuData):
        if airr_mod not in data.mod:
            reason = "the MuData has no AIRR modality"
            raise InvalidInputError(reason, field=airr_mod)
        data = data.mod[airr_mod]
    with quiet_awkward():
        if "airr" not in data.obsm:
            reason = "no receptor data: expected scirpy's obsm['airr'] (see io.read_tcr)"
            raise InvalidInputError(reason, field="airr")
    return data


def _expansion(size: pd.Series) -> pd.Series:
    classes = pd.cut(size, bins=[0, 1, 2, 10, np.inf], labels=list(EXPANSION_CLASSES))
    return classes.astype(pd.CategoricalDtype(list(EXPANSION_CLASSES), ordered=True))


def define_clonotypes(
    adata: AnnData | MuData,
    *,
    definition: ClonotypeDefinition = "nt_identity",
    sample_key: str = "sample",
    exclude_multichain: bool = True,
    key_added: str = "clone_id",
    airr_mod: str = "airr",
    n_jobs: int = 1,
) -> None:
    """Define clonotypes with scirpy, then clone sizes and expansion classes per sample.

    Runs :func:`scirpy.pp.index_chains`, :func:`scirpy.tl.chain_qc`,
    :func:`scirpy.pp.ir_dist` and :func:`scirpy.tl.define_clonotype_clusters` with
    ``metric="identity"`` (what :func:`scirpy.tl.define_clonotypes` does) [1]_. The default
    definition ``"nt_identity"`` calls two cells one clone when the CDR3 nucleotide
    sequences of their primary alpha (VJ) chain and their primary beta (VDJ) chain are
    identical (``receptor_arms="all"``, ``dual_ir="primary_only"``): the nucleotide
    sequence marks descent from one naive T cell, which is what following a product's
    clones through a patient needs; amino-acid identity would merge convergent clones from
    different ancestors. A cell with one arm only (orphan chain) is one clone with the cells
    carrying the same single chain. ``"aa_identity"`` (amino acids plus V genes) and
    ``"beta_nt"`` (beta chain alone, for data with much alpha dropout) are the
    alternatives. Cells whose chain pairing is ``no IR``, ``ambiguous`` or, with
    ``exclude_multichain``, ``multichain`` (more than two chains per arm, likely doublets)
    get no clone.

    Define clonotypes jointly over all samples to be compared (concatenate first), so that
    clone ids mean the same thing across samples.

    Parameters
    ----------
    adata
        TCR AnnData (``obsm["airr"]``; a TCR-only object without GEX works) or a MuData
        with the modality ``airr_mod``. Modified in place.
    definition
        One of :data:`CLONOTYPE_DEFINITIONS`.
    sample_key
        ``obs`` column with the sample; clone sizes and expansion classes are counted
        within it. Without it the whole object is one sample.
    exclude_multichain
        Give ``multichain`` cells no clone.
    key_added
        Name of the clonotype column.
    airr_mod
        The AIRR modality of a MuData.
    n_jobs
        Processes for scirpy's clonotype network.

    Notes
    -----
    Written to the AIRR AnnData's ``obs`` (and, for a MuData, also to ``mdata.obs`` as
    ``f"{airr_mod}:{key}"``, scirpy's convention):

    - ``receptor_type``, ``receptor_subtype``, ``chain_pairing``: scirpy's chain QC;
    - ``{key_added}``: clonotype id (string; NaN without a clone);
    - ``{key_added}_size``: cells of the clone in the whole object;
    - ``clone_size``: cells of the clone in the cell's sample;
    - ``clonal_expansion``: ordered category of ``clone_size``: ``1``, ``2``, ``3-10``,
      ``>10``.

    ``uns["v2v_clonotypes"]`` records the definition, its scirpy options, the scirpy version
    and counts of cells and clones.

    Raises
    ------
    InvalidInputError
        Without AIRR data, or with an unknown definition.

    References
    ----------
    .. [1] Sturm G, et al. Scirpy: a Scanpy extension for analyzing single-cell T-cell
       receptor-sequencing data. Bioinformatics 2020;36:4817-4818.
    .. [2] Yost KE, et al. Clonal replacement of tumor-specific T cells following PD-1
       blockade. Nat Med 2019;25:1251-1259 (clonotypes by identical CDR3 nucleotides of
       both chains).
    """
    import scirpy as ir
    from mudata import MuData

    if definition not in CLONOTYPE_DEFINITIONS:
        reason = f"unknown clonotype definition; choose one of {sorted(CLONOTYPE_DEFINITIONS)}"
        raise InvalidInputError(reason, field="definition")
    options = CLONOTYPE_DEFINITIONS[definition]
    ad = airr_adata(adata, airr_mod=airr_mod)
    with quiet_awkward(), warnings.catch_warnings():
        # scirpy 0.22 calls igraph's renamed Graph.clusters()
        warnings.filterwarnings(
            "ignore", message="Graph.clusters\\(\\) is deprecated", category=DeprecationWarning
        )
        ir.pp.index_chains(ad)
        ir.tl.chain_qc(ad)
        ir.pp.ir_dist(ad, metric="identity", sequence=options["sequence"], n_jobs=n_jobs)
        # define_clonotypes is scirpy's alias of this with sequence="nt"; the general
        # function also takes amino acids
        ir.tl.define_clonotype_clusters(
            ad,
            key_added=key_added,
            sequence=options["sequence"],
            metric="identity",
            receptor_arms=options["receptor_arms"],
            dual_ir=options["dual_ir"],
            same_v_gene=options["same_v_gene"],
            n_jobs=n_jobs,
        )
        obs = ad.obs
        excluded = list(_EXCLUDED_PAIRINGS if exclude_multichain else ("no IR", "ambiguous"))
        clone = obs[key_added].astype(object).where(~obs["chain_pairing"].isin(excluded))
        clone = clone.where(clone.notna(), None).astype("string")
        obs[key_added] = clone.astype("category")
        whole = clone.map(clone.value_counts())
        obs[f"{key_added}_size"] = whole.astype("Float64").astype(float)
        if sample_key in obs:
            groups = [obs[sample_key].astype(str), clone]
            size = clone.groupby(groups, observed=True, dropna=False).transform("size")
            size = size.where(clone.notna())
        else:
            size = whole
        obs["clone_size"] = size.astype("Float64").astype(float)
        obs["clonal_expansion"] = _expansion(obs["clone_size"])
        keys = ["receptor_type", "receptor_subtype", "chain_pairing", key_added]
        keys += [f"{key_added}_size", "clone_size", "clonal_expansion"]
        ad.uns["v2v_clonotypes"] = {
            "params": {
                "definition": definition,
                **options,
                "metric": "identity",
                "exclude_multichain": exclude_multichain,
                "sample_key": sample_key if sample_key in obs else None,
                "key_added": key_added,
            },
            "scirpy_version": ir.__version__,
            "n_cells": int(ad.n_obs),
            "n_cells_with_clone": int(clone.notna().sum()),
            "n_clones": int(clone.nunique()),
        }
        if isinstance(adata, MuData):
            for k in keys:
                adata.obs[f"{airr_mod}:{k}"] = obs[k].reindex(adata.obs_names)
            adata.uns["v2v_clonotypes"] = ad.uns["v2v_clonotypes"]
