"""One sample through the whole pipeline: load, QC, CAR+, embedding, states, scores, clones.

Each step is the package's own public function (``io.load_sample``, ``pp.qc``,
``tl.car_positive``, ``pp.embed``, ``tl.score_signatures``, ``tl.call_states``,
``tl.define_clonotypes``, ``tl.diversity``), called with the parameters of
:class:`ProfileParams` that it accepts. Where a step is not available in this release the
pipeline says so in ``uns["v2v_pipeline"]["skipped"]`` (QC and the embedding fall back
to the plain scanpy calls with the same documented defaults).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

import vein2vein

from .. import logging as v2vlog
from ._profile_model import InputFile, ProductProfile

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

    from ._sample_sheet import Sample

__all__ = ["ProfileParams", "file_sha256", "run_steps", "sample_inputs"]


class ProfileParams(BaseModel):
    """Every parameter of the profile pipeline (recorded in the profile).

    Attributes
    ----------
    seed
        Seed of the embedding (PCA, neighbours, Leiden, UMAP) and of the rarefied diversity.
    car_features, car_min_umi
        Transgene feature(s) and UMI threshold of the CAR+ call.
    min_genes, max_pct_mito, min_cells
        Quality-control thresholds (cells with fewer genes or more mitochondrial UMIs are
        dropped; ``min_cells`` applies to the plain-scanpy fallback only).
    doublets
        Remove scrublet doublets in quality control.
    n_top_genes, n_pcs, n_neighbors, leiden_resolution
        Embedding: highly variable genes, principal components, neighbours, Leiden.
    diversity_depth, n_boot
        Rarefaction depth of the diversity (``None``: no common depth) and its draws.
    backend
        ``"auto"`` (GPU through rapids-singlecell when present, else CPU), ``"cpu"`` or
        ``"gpu"``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    car_features: tuple[str, ...] = ("CAT_scFv",)
    car_min_umi: int = Field(default=1, ge=1)
    min_genes: int = Field(default=200, ge=0)
    max_pct_mito: float = Field(default=20.0, gt=0, le=100)
    min_cells: int = Field(default=3, ge=0)
    n_top_genes: int = Field(default=2000, ge=10)
    n_pcs: int = Field(default=30, ge=2)
    n_neighbors: int = Field(default=15, ge=2)
    leiden_resolution: float = Field(default=1.0, gt=0)
    diversity_depth: int | None = Field(default=None, ge=1)
    n_boot: int = Field(default=200, ge=1)
    doublets: bool = True
    backend: Literal["auto", "cpu", "gpu"] = "auto"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sample_inputs(sample: Sample) -> list[InputFile]:
    """The sample's GEX and TCR files with their SHA-256 (directories: every file in them)."""
    out: list[InputFile] = []
    for role in ("gex", "tcr"):
        path = getattr(sample, role)
        if path is None:
            continue
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        out.extend(
            InputFile(role=role, name=str(f.relative_to(path.parent)), sha256=file_sha256(f))
            for f in files
        )
    return out


#: Where each step lives, for a namespace that does not re-export it (yet).
_MODULES = {
    "qc": "_qc",
    "embed": "_embedding",
    "car_positive": "_car",
    "score_signatures": "_signatures",
    "call_states": "_states",
    "define_clonotypes": "_clonotypes",
    "diversity": "_diversity",
    "track_clones": "_tracking",
}


def _find(name: str) -> Callable[..., Any] | None:
    """A public function of the ``pp``/``tl`` namespaces, or None in this release."""
    places = ["vein2vein.singlecell.pp", "vein2vein.singlecell.tl"]
    if name in _MODULES:
        places.append(f"vein2vein.singlecell.{_MODULES[name]}")
    for place in places:
        try:
            module = importlib.import_module(place)
        except ModuleNotFoundError:
            continue
        fn = getattr(module, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


def _call(fn: Callable[..., Any], data: Any, **options: Any) -> Any:
    """Call ``fn(data, **options)`` with the options it accepts; return what it returns."""
    accepted = inspect.signature(fn).parameters
    return fn(data, **{k: v for k, v in options.items() if k in accepted})


def _fallback_qc(adata: AnnData, p: ProfileParams) -> AnnData:
    import numpy as np
    import scanpy as sc

    adata.var["mt"] = adata.var_names.str.upper().str.startswith("MT-")
    sc.pp.calculate_qc_metrics(adata, qc_vars=["mt"], percent_top=None, log1p=False, inplace=True)
    keep = (adata.obs["n_genes_by_counts"].to_numpy() >= p.min_genes) & (
        adata.obs["pct_counts_mt"].to_numpy() <= p.max_pct_mito
    )
    before = adata.n_obs
    adata = adata[keep].copy()
    if p.min_cells:
        genes = np.asarray((adata.X > 0).sum(axis=0)).ravel() >= p.min_cells
        genes |= adata.var_names.isin(list(p.car_features))
        adata = adata[:, genes].copy()
    adata.uns["v2v_qc"] = {
        "params": {"min_genes": p.min_genes, "max_pct_mito": p.max_pct_mito},
        "n_cells_before": before,
        "n_cells_after": adata.n_obs,
    }
    return adata


def _fallback_embed(adata: AnnData, p: ProfileParams) -> None:
    import scanpy as sc

    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=min(p.n_top_genes, adata.n_vars - 1))
    n_pcs = max(2, min(p.n_pcs, adata.n_obs - 1, int(adata.var["highly_variable"].sum()) - 1))
    sc.pp.pca(adata, n_comps=n_pcs, mask_var="highly_variable", random_state=p.seed)
    sc.pp.neighbors(adata, n_neighbors=min(p.n_neighbors, adata.n_obs - 1), random_state=p.seed)
    sc.tl.leiden(
        adata,
        resolution=p.leiden_resolution,
        flavor="igraph",
        n_iterations=2,
        directed=False,
        random_state=p.seed,
    )
    sc.tl.umap(adata, random_state=p.seed)


def _embed(adata: AnnData, p: ProfileParams, skipped: list[str]) -> None:
    from ._scale import choose_backend

    backend = choose_backend(p.backend)
    if backend == "gpu":
        from ._scale import gpu_embed

        gpu_embed(adata, p)
        return
    embed = _find("embed")
    if embed is None:
        skipped.append("pp.embed (plain scanpy steps used)")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="scanpy")
            warnings.filterwarnings(
                "ignore", message="`n_top_genes` > number of normalized", category=UserWarning
            )
            _fallback_embed(adata, p)
        return
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="`n_top_genes` > number of normalized", category=UserWarning
        )
        _call(
            embed,
            adata,
            seed=p.seed,
            n_top_genes=p.n_top_genes,
            n_pcs=p.n_pcs,
            n_neighbors=p.n_neighbors,
            resolution=p.leiden_resolution,
            exclude_genes=list(p.car_features),
        )


def _clonotypes(airr: AnnData, p: ProfileParams, skipped: list[str]) -> None:
    define = _find("define_clonotypes")
    if define is not None:
        _call(define, airr)
        return
    import scirpy as ir

    skipped.append("tl.define_clonotypes (scirpy defaults used)")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="scirpy")
        warnings.filterwarnings(
            "ignore", message=r"Graph\.clusters\(\) is deprecated", category=DeprecationWarning
        )
        ir.pp.index_chains(airr)
        ir.tl.chain_qc(airr)
        ir.pp.ir_dist(airr)
        ir.tl.define_clonotypes(airr, receptor_arms="all", dual_ir="primary_only")


def run_steps(data: MuData | AnnData, params: ProfileParams) -> AnnData:
    """Run QC, CAR+, embedding, states, scores and clonotypes; return the GEX AnnData.

    The TCR modality's ``clone_id`` and ``clonal_expansion`` are copied into the GEX
    ``obs`` (cells without a TCR get NaN); the diversity table goes to
    ``uns["v2v_diversity"]``; what ran and what was skipped to ``uns["v2v_pipeline"]``.
    """
    from anndata import AnnData

    skipped: list[str] = []
    if isinstance(data, AnnData):
        gex, airr = data, None
    else:
        gex = data.mod["gex"]
        airr = data.mod.get("airr")
    qc = _find("qc")
    if qc is None:
        skipped.append("pp.qc (plain scanpy QC used)")
        gex = _fallback_qc(gex, params)
    else:
        out = _call(
            qc,
            gex,
            min_genes=params.min_genes,
            max_pct_mt=params.max_pct_mito,
            doublets=params.doublets,
            seed=params.seed,
        )
        gex = out if isinstance(out, AnnData) else gex
    car = _find("car_positive")
    if car is not None:
        _call(car, gex, features=list(params.car_features), min_umi=params.car_min_umi)
    _embed(gex, params, skipped)
    for step in ("score_signatures", "call_states"):
        fn = _find(step)
        if fn is None:
            skipped.append(f"tl.{step}")
        else:
            _call(fn, gex)
    if airr is not None and airr.n_obs:
        from ._io_tcr import quiet_awkward

        with quiet_awkward():
            _clonotypes(airr, params, skipped)
            clone = airr.obs["clone_id"].astype(str)
        gex.obs["clone_id"] = clone.reindex(gex.obs_names).to_numpy()
        if "clonal_expansion" in airr.obs:  # for pl.clone_size_distribution
            gex.obs["clonal_expansion"] = airr.obs["clonal_expansion"].reindex(gex.obs_names)
        diversity = _find("diversity")
        if diversity is not None and gex.obs["clone_id"].notna().any():
            cells = gex[gex.obs["clone_id"].notna()]
            table = diversity(
                {"all": cells.obs["clone_id"].value_counts().to_numpy()},
                depth=params.diversity_depth,
                n_boot=params.n_boot,
                seed=params.seed,
            )
            gex.uns["v2v_diversity"] = {"params": table.attrs["params"], "table": table}
    gex.uns["v2v_pipeline"] = {
        "version": vein2vein.__version__,
        "params": params.model_dump(mode="json"),
        "skipped": skipped,
    }
    for step in skipped:
        v2vlog.info(f"step not in this release, skipped or replaced: {step}")
    return gex


def profile_one(sample: Sample, params: ProfileParams) -> tuple[ProductProfile, AnnData]:
    """Load a sample-sheet row, run the steps and condense it to a profile."""
    from ._sample_sheet import load_sample
    from .profile import build_profile

    if sample.gex is None:
        from ..errors import InvalidInputError

        msg = f"sample {sample.sample} has no gene-expression file to profile"
        raise InvalidInputError(msg, field="gex")
    gex = run_steps(load_sample(sample), params)
    meta = {c: getattr(sample, c) for c in ("sample", "patient", "timepoint", "source", "sort")}
    profile = build_profile(
        gex,
        sample_meta=meta,
        inputs=sample_inputs(sample),
        parameters=params.model_dump(mode="json"),
        seed=params.seed,
        provenance=_provenance(sample.gex),
    )
    return profile, gex


def _provenance(path: Path) -> str | None:
    """The synthetic label a synthetic Cell Ranger h5 carries in ``library_ids``."""
    if path.suffix != ".h5" or not path.is_file():
        return None
    import h5py

    from ..simulate import SYNTHETIC_LABEL

    with h5py.File(path, "r") as f:
        ids = [bytes(i).decode(errors="replace") for i in f.attrs.get("library_ids", [])]
    return SYNTHETIC_LABEL if any(i.startswith("SYNTHETIC") for i in ids) else None


def track_patient(samples: list[Sample], *, params: ProfileParams) -> Any:
    """Track one patient's product clones through its samples with TCR data.

    Each sample is loaded (GEX and TCR); where GEX is present the CAR+ call runs on it
    so that the tracking also reports CAR+ cells. Clonotypes are defined jointly by
    :func:`~vein2vein.singlecell.tl.track_clones`. Returns its ``TrackingResult``.
    """
    from ._sample_sheet import load_sample

    track = _find("track_clones")
    if track is None:
        from ..errors import InvalidInputError

        msg = "clone tracking (tl.track_clones) is not available in this release"
        raise InvalidInputError(msg, field="track")
    loaded = {}
    car = _find("car_positive")
    for sample in samples:
        if sample.tcr is None:
            continue
        mdata = load_sample(sample)
        if car is not None and "gex" in mdata.mod:
            _call(
                car,
                mdata.mod["gex"],
                features=list(params.car_features),
                min_umi=params.car_min_umi,
            )
        loaded[sample.sample] = mdata
    patients = {s.patient for s in samples}
    return track(loaded, patient=patients.pop() if len(patients) == 1 else None)
