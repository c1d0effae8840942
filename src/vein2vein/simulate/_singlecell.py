"""A labelled-synthetic CAR-T product: counts with T-cell state structure, a CAR feature, TCRs.

The generator draws, for every cell, a CD4/CD8 lineage and a state from its clone (clone
sizes follow a discrete power law, as expanded T-cell repertoires do), a library size
from a log-normal distribution, and then its UMIs from a multinomial over the genes whose
probabilities depend on the state: memory genes (TCF7, SELL, CCR7, IL7R, LEF1) up in
naive/stem-like and central-memory cells, exhaustion genes (LAG3, PDCD1, HAVCR2, TOX,
TIGIT) up in exhausted cells, and so on. A share of cells carries the CAR transgene
(``CAT_scFv``, Poisson UMIs, so some CAR+ cells drop out to zero as in real data), a few
cells are low quality (high mitochondrial share, small libraries). Everything it makes is
labelled synthetic (``uns["provenance"]``, the h5 ``library_ids``, the contig file name).

:meth:`SyntheticProduct.write_10x` writes real 10x formats - a Cell Ranger v3
``filtered_feature_bc_matrix.h5`` and a ``filtered_contig_annotations.csv`` - so that the
benchmark and tests go through the same readers as real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd
from scipy import sparse  # type: ignore[import-untyped]

from ..errors import InvalidInputError
from ..support import SYNTHETIC_LABEL, write_csv

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["CAR_FEATURE", "STATES", "SyntheticProduct", "synthetic_product", "write_10x_h5"]

CAR_FEATURE: Final = "CAT_scFv"
GENOME: Final = "GRCh38-synthetic+CAT_scFv"

#: States and their default shares in a product.
STATES: Final[dict[str, float]] = {
    "naive_stem_memory": 0.15,
    "central_memory": 0.20,
    "effector_memory": 0.25,
    "effector": 0.15,
    "exhausted": 0.10,
    "proliferating": 0.10,
    "treg": 0.05,
}
_T_CELL: Final = ("CD3D", "CD3E", "CD3G", "CD2", "CD247")
_HOUSEKEEPING: Final = ("ACTB", "B2M", "GAPDH", "MALAT1", "TMSB4X", "EEF1A1", "FTL", "TPT1")
_MITO: Final = (
    *(f"MT-{g}" for g in ("CO1", "CO2", "CO3", "ND1", "ND2", "ND3", "ND4", "ND4L", "ND5")),
    *("MT-ND6", "MT-CYB", "MT-ATP6", "MT-ATP8"),
)
_RIBO: Final = (*(f"RPL{i}" for i in range(3, 13)), *(f"RPS{i}" for i in range(3, 13)))
_LINEAGE: Final = {"CD4": ("CD4", "IL7R"), "CD8": ("CD8A", "CD8B")}
#: Marker genes raised in each state (fold over the base weight).
_STATE_GENES: Final[dict[str, dict[str, float]]] = {
    "naive_stem_memory": {"TCF7": 12, "SELL": 12, "CCR7": 12, "LEF1": 10, "IL7R": 6},
    "central_memory": {"SELL": 6, "CCR7": 6, "IL7R": 8, "TCF7": 5, "GZMK": 3, "CD28": 4},
    "effector_memory": {"GZMK": 10, "CCL5": 8, "IL7R": 4, "GZMA": 5, "CXCR3": 4},
    "effector": {"GZMB": 12, "PRF1": 10, "GNLY": 12, "NKG7": 10, "GZMH": 8, "KLRG1": 6},
    "exhausted": {"LAG3": 12, "PDCD1": 12, "HAVCR2": 12, "TOX": 10, "TIGIT": 10, "ENTPD1": 6},
    "proliferating": {"MKI67": 14, "TOP2A": 14, "TYMS": 8, "STMN1": 8, "CENPF": 8, "GZMB": 3},
    "treg": {"FOXP3": 14, "IL2RA": 10, "CTLA4": 8, "IKZF2": 8, "TIGIT": 3},
}
_TYPE2: Final = {"GATA3": 8, "IL4": 8, "IL5": 6, "IL13": 6}
_AA: Final = "ACDEFGHIKLMNPQRSTVWY"
_CODON: Final = {
    "A": "GCT",
    "C": "TGT",
    "D": "GAT",
    "E": "GAA",
    "F": "TTT",
    "G": "GGT",
    "H": "CAT",
    "I": "ATT",
    "K": "AAA",
    "L": "CTG",
    "M": "ATG",
    "N": "AAT",
    "P": "CCT",
    "Q": "CAA",
    "R": "CGT",
    "S": "AGC",
    "T": "ACT",
    "V": "GTG",
    "W": "TGG",
    "Y": "TAT",
}
_CONTIG_COLUMNS: Final = [
    *("barcode", "is_cell", "contig_id", "high_confidence", "length", "chain", "v_gene"),
    *("d_gene", "j_gene", "c_gene", "full_length", "productive", "cdr3", "cdr3_nt", "reads"),
    *("umis", "raw_clonotype_id", "raw_consensus_id"),
]


@dataclass(frozen=True)
class SyntheticProduct:
    """A synthetic CAR-T product: the counts and the matching 10x TCR contig table.

    Attributes
    ----------
    adata
        Cells x features, counts as ``scipy.sparse.csr_matrix`` (int32); ``obs`` holds the
        truth (``synthetic_state``, ``synthetic_lineage``, ``synthetic_car``,
        ``synthetic_clone``); ``uns["provenance"]`` is the synthetic label.
    contigs
        A ``filtered_contig_annotations.csv``-shaped table (one row per contig).
    sample
        The sample name.
    """

    adata: AnnData
    contigs: pd.DataFrame
    sample: str

    def write_10x(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``filtered_feature_bc_matrix.h5`` and ``filtered_contig_annotations.csv``.

        Parameters
        ----------
        folder
            Created if needed.

        Returns
        -------
        tuple of pathlib.Path
            The h5 and the contig CSV paths.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        h5 = write_10x_h5(self.adata, out / "filtered_feature_bc_matrix.h5")
        csv = out / "filtered_contig_annotations.csv"
        write_csv(self.contigs, csv)
        return h5, csv


def write_10x_h5(adata: AnnData, path: str | Path) -> Path:
    """Write counts as a Cell Ranger v3 ``filtered_feature_bc_matrix.h5``.

    The layout is Cell Ranger's (``matrix/data, indices, indptr, shape, barcodes`` and
    ``matrix/features/{id,name,feature_type,genome,_all_tag_keys}``, a features x barcodes
    CSC matrix), so :func:`scanpy.read_10x_h5` reads it.

    Parameters
    ----------
    adata
        Integer counts in ``X`` (cells x features); ``var_names`` are the feature names,
        ``var["gene_ids"]`` / ``var["feature_types"]`` are used where present.
    path
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import h5py

    x = sparse.csr_matrix(adata.X)
    if x.dtype.kind not in "iu":
        msg = "the counts must be integers to be written as a Cell Ranger matrix"
        raise InvalidInputError(msg, field="X")
    names = np.asarray(adata.var_names, dtype=object)
    ids = np.asarray(adata.var.get("gene_ids", pd.Series(names)), dtype=object)
    types = np.asarray(
        adata.var.get("feature_types", pd.Series(["Gene Expression"] * len(names))), dtype=object
    )
    provenance = str(adata.uns.get("provenance", ""))
    target = Path(path)
    with h5py.File(target, "w") as f:
        f.attrs["filetype"] = "matrix"
        f.attrs["version"] = np.int64(2)
        f.attrs["software_version"] = "vein2vein.simulate (synthetic)"
        f.attrs["chemistry_description"] = "Single Cell 5' R2-only"
        f.attrs["library_ids"] = np.array([provenance.encode()[:200] or b"library"])
        f.attrs["original_gem_groups"] = np.array([1])
        m = f.create_group("matrix")
        m.create_dataset("barcodes", data=np.asarray(adata.obs_names, dtype="S"))
        m.create_dataset("data", data=x.data.astype(np.int32), compression="gzip")
        m.create_dataset("indices", data=x.indices.astype(np.int64), compression="gzip")
        m.create_dataset("indptr", data=x.indptr.astype(np.int64))
        m.create_dataset("shape", data=np.array([x.shape[1], x.shape[0]], dtype=np.int32))
        feats = m.create_group("features")
        feats.create_dataset("id", data=ids.astype("S"))
        feats.create_dataset("name", data=names.astype("S"))
        feats.create_dataset("feature_type", data=types.astype("S"))
        feats.create_dataset("genome", data=np.array([GENOME.encode()] * len(names)))
        feats.create_dataset("_all_tag_keys", data=np.array([b"genome"]))
    return target


def _genes(n_genes: int) -> list[str]:
    named: list[str] = []
    for group in (
        _T_CELL,
        _HOUSEKEEPING,
        _MITO,
        _RIBO,
        *(_LINEAGE.values()),
        *(tuple(s) for s in _STATE_GENES.values()),
        tuple(_TYPE2),
    ):
        named.extend(g for g in group if g not in named)
    if n_genes < len(named) + 1:
        msg = f"n_genes must be at least {len(named) + 1} (the named T-cell genes and CAT_scFv)"
        raise InvalidInputError(msg, field="n_genes")
    filler = [f"SYNG{i:05d}" for i in range(n_genes - len(named) - 1)]
    return [*named, *filler, CAR_FEATURE]


def _barcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    codes = rng.choice(4**16, size=int(n * 1.05) + 16, replace=False)[:n]
    letters = np.array(list("ACGT"))
    digits = (codes[:, None] // (4 ** np.arange(15, -1, -1))[None, :]) % 4
    return np.array(["".join(row) + "-1" for row in letters[digits]], dtype=object)


def _clone_sizes(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    sizes: list[int] = []
    total = 0
    while total < n:
        draw = rng.zipf(exponent, size=max(16, (n - total) // 2))
        for s in draw:
            s = int(min(s, max(1, n // 50)))
            sizes.append(min(s, n - total))
            total += sizes[-1]
            if total >= n:
                break
    return np.sort(np.array(sizes, dtype=np.int64))[::-1]


def _cdr3(rng: np.random.Generator, prefix: str) -> str:
    middle = "".join(rng.choice(list(_AA), size=int(rng.integers(7, 12))))
    return prefix + middle + "F"


def _contigs(
    rng: np.random.Generator, barcodes: np.ndarray, clone_of: np.ndarray, n_clones: int
) -> pd.DataFrame:
    tra = [_cdr3(rng, "CAV") for _ in range(n_clones)]
    trb = [_cdr3(rng, "CASS") for _ in range(n_clones)]
    trav = rng.integers(1, 41, n_clones)
    trbv = rng.integers(2, 30, n_clones)
    traj = rng.integers(3, 61, n_clones)
    trbj = rng.integers(1, 8, n_clones)
    rows: list[tuple[object, ...]] = []
    has_tcr = clone_of >= 0
    alpha = rng.random(len(barcodes)) < 0.9
    beta = rng.random(len(barcodes)) < 0.97
    beta |= ~alpha
    n = len(barcodes)
    lengths, reads, umis = (
        rng.integers(450, 560, n),
        rng.integers(500, 30000, n),
        rng.integers(2, 30, n),
    )
    for i in np.flatnonzero(has_tcr):
        c = int(clone_of[i])
        bc = str(barcodes[i])
        chains = [("TRB", trb[c], f"TRBV{trbv[c]}", f"TRBJ{1 + trbj[c] // 7}-{trbj[c]}", "TRBC1")]
        chains = chains if beta[i] else []
        if alpha[i]:
            chains.append(("TRA", tra[c], f"TRAV{trav[c]}", f"TRAJ{traj[c]}", "TRAC"))
        for k, (chain, cdr3, v, j, const) in enumerate(chains, start=1):
            nt = "".join(_CODON[a] for a in cdr3)
            rows.append(
                (
                    *(bc, "true", f"{bc}_contig_{k}", "true", int(lengths[i]) + k, chain, v),
                    *("", j, const, "true", "true", cdr3, nt, int(reads[i]) // k, int(umis[i])),
                    *(f"clonotype{c + 1}", f"clonotype{c + 1}_consensus_{k}"),
                )
            )
    return pd.DataFrame(rows, columns=_CONTIG_COLUMNS)


def synthetic_product(
    n_cells: int,
    *,
    seed: int = 0,
    car_fraction: float = 0.3,
    n_genes: int = 2000,
    mean_umis: float = 1500.0,
    tcr_fraction: float = 0.85,
    clone_exponent: float = 2.0,
    cd4_fraction: float = 0.55,
    low_quality_fraction: float = 0.04,
    sample: str = "SYNTHETIC-PRODUCT",
) -> SyntheticProduct:
    """A labelled-synthetic CAR-T infusion product with clonotypes.

    Parameters
    ----------
    n_cells
        Number of cells (barcodes).
    seed
        Seed of the random generator (same seed, same product).
    car_fraction
        Share of cells carrying the CAR; their ``CAT_scFv`` UMIs are Poisson (mean 3), so
        about 5 % of them read zero (dropout).
    n_genes
        Number of features, ``CAT_scFv`` included (at least the named T-cell genes + 1).
    mean_umis
        Mean library size of a good cell.
    tcr_fraction
        Share of cells with a TCR contig.
    clone_exponent
        Exponent of the Zipf law of clone sizes (larger: fewer expanded clones).
    cd4_fraction
        Share of clones in the CD4 lineage.
    low_quality_fraction
        Share of low-quality cells (small library, 25 % mitochondrial UMIs).
    sample
        The sample name.

    Returns
    -------
    SyntheticProduct
        The AnnData (counts, truth in ``obs``) and the contig table.

    Examples
    --------
    >>> product = synthetic_product(200, seed=1)
    >>> product.adata.shape, product.adata.uns["provenance"].startswith("SYNTHETIC")
    ((200, 2000), True)
    """
    import anndata as ad

    if n_cells < 1:
        msg = "n_cells must be at least 1"
        raise InvalidInputError(msg, field="n_cells")
    for name, value in (
        ("car_fraction", car_fraction),
        ("tcr_fraction", tcr_fraction),
        ("cd4_fraction", cd4_fraction),
        ("low_quality_fraction", low_quality_fraction),
    ):
        if not 0.0 <= value <= 1.0:
            msg = f"{name} must lie in [0, 1], not {value}"
            raise InvalidInputError(msg, field=name)
    rng = np.random.default_rng(seed)
    genes = _genes(n_genes)
    index = {g: i for i, g in enumerate(genes)}
    base = rng.lognormal(0.0, 1.5, size=len(genes))
    for g in _T_CELL + _HOUSEKEEPING:
        base[index[g]] = 60.0
    base[[index[g] for g in _RIBO]] = 30.0
    base[index[CAR_FEATURE]] = 0.0

    # clones carry lineage and a favoured state; cells follow their clone
    sizes = _clone_sizes(rng, n_cells, clone_exponent)
    n_clones = len(sizes)
    clone_of = np.repeat(np.arange(n_clones), sizes)
    rng.shuffle(clone_of)
    state_names = list(STATES)
    shares = np.array(list(STATES.values()))
    clone_state = rng.choice(len(state_names), size=n_clones, p=shares / shares.sum())
    clone_cd4 = rng.random(n_clones) < cd4_fraction
    clone_cd4 |= clone_state == state_names.index("treg")
    state = np.where(
        rng.random(n_cells) < 0.6,
        clone_state[clone_of],
        rng.choice(len(state_names), size=n_cells, p=shares / shares.sum()),
    )
    cd4 = clone_cd4[clone_of]
    state[(state == state_names.index("treg")) & ~cd4] = state_names.index("effector_memory")
    type2 = cd4 & (rng.random(n_cells) < 0.15)
    low_q = rng.random(n_cells) < low_quality_fraction
    car = rng.random(n_cells) < car_fraction

    # per (state, lineage, type2, low quality) group: one gene-probability vector
    mito = np.array([index[g] for g in _MITO])
    library = rng.lognormal(np.log(mean_umis), 0.4, size=n_cells)
    library[low_q] *= 0.25
    library = np.maximum(library.round().astype(np.int64), 50)
    group = state * 8 + cd4 * 4 + type2 * 2 + low_q
    chunks = []
    order = np.argsort(group, kind="stable")
    for g in np.unique(group):
        cells = order[group[order] == g]
        weights = base.copy()
        for gene, fold in _STATE_GENES[state_names[g // 8]].items():
            weights[index[gene]] *= fold
        for gene in _LINEAGE["CD4" if (g // 4) % 2 else "CD8"]:
            weights[index[gene]] *= 15
        if (g // 2) % 2:
            for gene, fold in _TYPE2.items():
                weights[index[gene]] *= fold
        share = 0.25 if g % 2 else 0.05
        weights[mito] *= share * weights.sum() / weights[mito].sum() / (1 - share)
        p = weights / weights.sum()
        lib = library[cells]
        draws = rng.choice(len(genes), size=int(lib.sum()), p=p)
        rows = np.repeat(np.arange(len(cells)), lib)
        keys, counts = np.unique(rows * len(genes) + draws, return_counts=True)
        block = sparse.csr_matrix(
            (counts.astype(np.int32), (keys // len(genes), keys % len(genes))),
            shape=(len(cells), len(genes)),
        )
        chunks.append((cells, block))
    x = sparse.vstack([b for _, b in chunks], format="csr")
    x = x[np.argsort(np.concatenate([c for c, _ in chunks]))]
    car_umis = np.where(car, rng.poisson(3.0, n_cells), 0).astype(np.int32)
    # CAT_scFv is the last feature and drew no UMIs above: put the CAR counts there
    x = sparse.hstack([x[:, :-1], sparse.csr_matrix(car_umis[:, None])], format="csr")
    x.eliminate_zeros()
    x.sort_indices()

    barcodes = _barcodes(rng, n_cells)
    tcr = rng.random(n_cells) < tcr_fraction
    clone_tcr = np.where(tcr, clone_of, -1)
    adata = ad.AnnData(
        X=x.astype(np.int32),
        obs=pd.DataFrame(
            {
                "synthetic_state": pd.Categorical(np.array(state_names)[state]),
                "synthetic_lineage": np.where(cd4, "CD4", "CD8"),
                "synthetic_car": car,
                "synthetic_clone": clone_tcr,
                "synthetic_low_quality": low_q,
            },
            index=pd.Index(barcodes, name=None),
        ),
        var=pd.DataFrame(
            {
                "gene_ids": [f"SYNID{i:06d}" for i in range(len(genes))],
                "feature_types": "Gene Expression",
                "genome": GENOME,
            },
            index=pd.Index(genes),
        ),
    )
    adata.uns["provenance"] = SYNTHETIC_LABEL
    adata.uns["synthetic"] = {"seed": seed, "n_cells": n_cells, "car_fraction": car_fraction}
    return SyntheticProduct(adata, _contigs(rng, barcodes, clone_tcr, n_clones), sample)
