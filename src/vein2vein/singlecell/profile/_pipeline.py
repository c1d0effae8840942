"""One sample through the whole pipeline: load, QC, CAR+, embedding, states, scores, clones.

Each step is the package's own public function (``io.load_sample``, ``pp.qc``,
``tl.car_positive``, ``pp.embed``, ``tl.score_signatures``, ``tl.call_states``,
``tl.define_clonotypes``, ``tl.diversity``), called with the parameters of
:class:`ProfileParams`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

import vein2vein

from ._model import InputFile, ProductProfile

if TYPE_CHECKING:
    from anndata import AnnData
    from mudata import MuData

    from ..io._sample_sheet import Sample

__all__ = ["ProfileParams", "file_sha256", "run_steps", "sample_inputs"]


class ProfileParams(BaseModel):
    """Every parameter of the profile pipeline (recorded in the profile).

    Attributes
    ----------
    seed
        Seed of the embedding (PCA, neighbours, Leiden, UMAP) and of the rarefied diversity.
    car_features, car_min_umi
        Transgene feature(s) and UMI threshold of the CAR+ call.
    min_genes, max_pct_mito
        Quality-control thresholds (cells with fewer genes or more mitochondrial UMIs are
        dropped).
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


def run_steps(data: MuData | AnnData, params: ProfileParams) -> AnnData:
    """Run QC, CAR+, embedding, states, scores and clonotypes; return the GEX AnnData.

    The TCR modality's ``clone_id`` and ``clonal_expansion`` are copied into the GEX
    ``obs`` (cells without a TCR get NaN); the diversity table goes to
    ``uns["v2v_diversity"]``; the package version and parameters to ``uns["v2v_pipeline"]``.
    """
    from anndata import AnnData

    from ..io._tcr import quiet_awkward
    from ..pp._embedding import embed
    from ..pp._qc import qc
    from ..tl._car import car_positive
    from ..tl._clonotypes import define_clonotypes
    from ..tl._diversity import diversity
    from ..tl._signatures import score_signatures
    from ..tl._states import call_states

    if isinstance(data, AnnData):
        gex, airr = data, None
    else:
        gex = data.mod["gex"]
        airr = data.mod.get("airr")
    qc(
        gex,
        min_genes=params.min_genes,
        max_pct_mt=params.max_pct_mito,
        doublets=params.doublets,
        seed=params.seed,
    )
    car_positive(gex, features=list(params.car_features), min_umi=params.car_min_umi)
    embed(
        gex,
        seed=params.seed,
        n_top_genes=params.n_top_genes,
        n_pcs=params.n_pcs,
        n_neighbors=params.n_neighbors,
        resolution=params.leiden_resolution,
        exclude_genes=list(params.car_features),
        backend=params.backend,
    )
    score_signatures(gex)
    call_states(gex)
    if airr is not None and airr.n_obs:
        with quiet_awkward():
            define_clonotypes(airr)
            clone = airr.obs["clone_id"].astype(str)
        gex.obs["clone_id"] = clone.reindex(gex.obs_names).to_numpy()
        if "clonal_expansion" in airr.obs:  # for pl.clone_size_distribution
            gex.obs["clonal_expansion"] = airr.obs["clonal_expansion"].reindex(gex.obs_names)
        if gex.obs["clone_id"].notna().any():
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
    }
    return gex


def profile_one(sample: Sample, params: ProfileParams) -> tuple[ProductProfile, AnnData]:
    """Load a sample-sheet row, run the steps and condense it to a profile."""
    from ..io._sample_sheet import load_sample
    from . import build_profile

    if sample.gex is None:
        from ...errors import InvalidInputError

        msg = f"sample {sample.sample} has no gene-expression file to profile"
        raise InvalidInputError(msg, field="gex")
    from ._scale import choose_backend

    # record the backend that ran, not "auto"
    params = params.model_copy(update={"backend": choose_backend(params.backend)})
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

    from ...simulate import SYNTHETIC_LABEL

    with h5py.File(path, "r") as f:
        ids = [bytes(i).decode(errors="replace") for i in f.attrs.get("library_ids", [])]
    return SYNTHETIC_LABEL if any(i.startswith("SYNTHETIC") for i in ids) else None


def track_patient(
    samples: list[Sample],
    *,
    params: ProfileParams,
    on_loaded: Callable[[str], None] | None = None,
) -> Any:
    """Track one patient's product clones through its samples with TCR data.

    Each sample is loaded (GEX and TCR); where GEX is present the CAR+ call and the fixed
    state rule run on it (both per cell, no embedding), so that the tracking also reports
    CAR+ cells and which product states the persisting clones came from. Clonotypes are
    defined jointly by :func:`~vein2vein.singlecell.tl.track_clones`. ``on_loaded(sample)``
    is called after each sample is read. Returns its ``TrackingResult``.
    """
    from ..io._sample_sheet import load_sample
    from ..tl._car import car_positive
    from ..tl._states import call_states
    from ..tl._tracking import track_clones

    loaded = {}
    for sample in samples:
        if sample.tcr is None:
            continue
        mdata = load_sample(sample)
        if "gex" in mdata.mod:
            gex = mdata.mod["gex"]
            car_positive(gex, features=list(params.car_features), min_umi=params.car_min_umi)
            call_states(gex)
        loaded[sample.sample] = mdata
        if on_loaded is not None:
            on_loaded(sample.sample)
    patients = {s.patient for s in samples}
    return track_clones(loaded, patient=patients.pop() if len(patients) == 1 else None)
