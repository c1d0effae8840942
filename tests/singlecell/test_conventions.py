"""The scverse contract of every ``pp`` and ``tl`` function, checked on real runs.

Every exported function is in exactly one class below, so a new one must be placed (and
is then checked). Annotators take the AnnData (or MuData) first and their options by
keyword, write into it and return ``None``, or, with ``copy=True``, return an annotated
copy and leave the input as it was; they write only the keys their docstring names,
derived from ``key_added`` where they have one. Readers take the AnnData first, return a
result and write nothing. Helpers take no AnnData.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anndata as ad
import numpy as np
import pytest

from vein2vein.simulate import synthetic_product
from vein2vein.singlecell import io, pp, tl

#: Annotators: the keys each writes with its defaults (``where`` -> names).
ANNOTATORS: dict[str, dict[str, set[str]]] = {
    "qc": {
        "obs": {
            "n_genes_by_counts",
            "total_counts",
            "pct_counts_mt",
            "doublet_score",
            "predicted_doublet",
        },
        "uns": {"v2v_qc"},
    },
    "embed": {
        "obs": {"leiden"},
        "obsm": {"X_pca", "X_umap"},
        "obsp": {"connectivities", "distances"},
        "layers": {"counts"},
        "var": {"highly_variable"},
        "uns": {"v2v_embedding"},
    },
    "car_positive": {"obs": {"car_positive", "car_positive_umi"}, "uns": {"v2v_car_positive"}},
    "score_signatures": {"obs": {"v2v_score_*"}, "uns": {"v2v_signatures"}},
    "call_states": {"obs": {"v2v_lineage", "v2v_state"}, "uns": {"v2v_states"}},
    "define_clonotypes": {
        "obs": {
            "receptor_type",
            "receptor_subtype",
            "chain_pairing",
            "clone_id",
            "clone_id_size",
            "clone_id_sample_size",
            "clone_id_expansion",
        },
        "uns": {"v2v_clone_id"},
    },
    "diversity": {"uns": {"v2v_diversity"}},
}
#: Readers: AnnData first, a result back, nothing written.
READERS = {"embedding_agreement", "state_fractions", "track_clones"}
#: Helpers without an AnnData.
HELPERS = {
    "clone_diversity",
    "library_versions",
    "shipped_signatures",
    "shipped_state_rule",
    "timepoint_months",
}
#: What scanpy and scirpy record beside the documented keys (their own conventions).
TOOL_RECORDS = {
    "embed": {
        "uns": {"pca", "neighbors", "umap", "leiden", "log1p", "hvg"},
        "varm": {"PCs"},
        "var": {
            "means",
            "dispersions",
            "dispersions_norm",
            "highly_variable_nbatches",
            "highly_variable_intersection",
            "variances",
            "variances_norm",
            "highly_variable_rank",
        },
    },
    "define_clonotypes": {
        "uns": {"clone_id", "chain_indices", "ir_dist_nt_identity", "ir_dist_aa_identity"},
        "obsm": {"chain_indices"},
    },
}


def _exported() -> dict[str, Callable[..., Any]]:
    out = {}
    for module in (pp, tl):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                out[name] = obj
    return out


def test_every_exported_function_is_classified_once() -> None:
    groups = [set(ANNOTATORS), READERS, HELPERS]
    assert sum(len(g) for g in groups) == len(set().union(*groups))
    assert set(_exported()) == set().union(*groups)


@pytest.mark.parametrize("name", sorted(set(ANNOTATORS) | READERS))
def test_anndata_first_and_options_by_keyword(name: str) -> None:
    params = list(inspect.signature(_exported()[name]).parameters.values())
    data = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert params[0].kind is params[0].POSITIONAL_OR_KEYWORD
    assert "AnnData" in str(params[0].annotation)
    # the data come first (two AnnData for embedding_agreement); options are keyword-only
    assert all("AnnData" in str(p.annotation) for p in data), name
    assert all(p.kind is p.KEYWORD_ONLY for p in params[len(data) :]), name


@pytest.mark.parametrize("name", sorted(ANNOTATORS))
def test_annotators_take_copy_and_return_none_or_the_copy(name: str) -> None:
    sig = inspect.signature(_exported()[name])
    copy = sig.parameters["copy"]
    assert copy.kind is copy.KEYWORD_ONLY and copy.default is False
    assert "None" in str(sig.return_annotation)
    doc = inspect.getdoc(_exported()[name]) or ""
    assert "copy=True" in doc, f"{name} does not say what copy=True returns"
    if "key_added" in sig.parameters:
        assert "key_added" in doc


# ---------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> tuple[ad.AnnData, ad.AnnData]:
    """Synthetic GEX (300 cells, with the CAR feature) and its TCR AnnData."""
    made = synthetic_product(300, seed=11, car_fraction=0.5, n_genes=400, mean_umis=1200)
    folder = tmp_path_factory.mktemp("conventions")
    _, csv = made.write_10x(folder)
    airr = io.read_tcr(csv, sample=made.sample)
    gex = made.adata.copy()
    gex.obs["sample"] = made.sample
    return gex, airr


def _keys(data: Any) -> dict[str, set[str]]:
    out = {}
    for where in ("obs", "var", "uns", "obsm", "obsp", "varm", "layers"):
        holder = getattr(data, where)
        out[where] = set(holder.columns if hasattr(holder, "columns") else holder.keys())
    return out


def _same(a: ad.AnnData, b: ad.AnnData) -> bool:
    if _keys(a) != _keys(b) or a.shape != b.shape:
        return False
    x, y = a.X, b.X
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    y = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
    return bool(np.array_equal(x, y)) and a.obs.equals(b.obs)


def _input(name: str, product: tuple[ad.AnnData, ad.AnnData]) -> ad.AnnData:
    gex, airr = product
    if name in ("define_clonotypes",):
        return airr.copy()
    if name == "diversity":
        with_clones = airr.copy()
        tl.define_clonotypes(with_clones)
        return with_clones
    return gex.copy()


def _matches(written: set[str], documented: set[str]) -> set[str]:
    """The written keys that no documented name (``*`` a wildcard suffix) covers."""
    stems = {d[:-1] for d in documented if d.endswith("*")}
    return {k for k in written if k not in documented and not k.startswith(tuple(stems))}


@pytest.mark.parametrize("name", sorted(ANNOTATORS))
def test_copy_leaves_the_input_and_writes_only_documented_keys(
    name: str, product: tuple[ad.AnnData, ad.AnnData]
) -> None:
    data = _input(name, product)
    before = data.copy()
    options: dict[str, Any] = {"doublets": False} if name == "qc" else {}
    if name == "diversity":
        options["n_boot"] = 5
    out = _exported()[name](data, copy=True, **options)
    assert out is not None and out is not data
    assert _same(data, before), f"{name}(copy=True) changed its input"
    new = {w: _keys(out)[w] - _keys(before)[w] for w in _keys(out)}
    documented = ANNOTATORS[name]
    extra = TOOL_RECORDS.get(name, {})
    for where, keys in new.items():
        unexpected = _matches(keys, documented.get(where, set()) | extra.get(where, set()))
        assert not unexpected, f"{name} wrote undocumented {where} keys {sorted(unexpected)}"
    for where, keys in documented.items():
        missing = {k for k in keys if not k.endswith("*")} - _keys(out)[where]
        assert not missing, f"{name} did not write {where} {sorted(missing)}"
    assert _exported()[name](out, **options) is None  # in place: None


@pytest.mark.parametrize("name", ["car_positive", "define_clonotypes", "diversity"])
def test_key_added_names_everything_it_writes(
    name: str, product: tuple[ad.AnnData, ad.AnnData]
) -> None:
    data = _input(name, product)
    options: dict[str, Any] = {"n_boot": 5} if name == "diversity" else {}
    out = _exported()[name](data, copy=True, key_added="other", **options)
    new = {w: _keys(out)[w] - _keys(data)[w] for w in _keys(out)}
    defaults = ANNOTATORS[name]
    for where, keys in defaults.items():
        for key in keys - {"receptor_type", "receptor_subtype", "chain_pairing"}:
            assert key not in new[where], f"{name}(key_added='other') still wrote {key}"
    assert "v2v_other" in new["uns"]
    if name != "diversity":
        assert "other" in new["obs"]


@pytest.mark.parametrize("name", sorted(READERS))
def test_readers_write_nothing(name: str, product: tuple[ad.AnnData, ad.AnnData]) -> None:
    gex, airr = product
    if name == "embedding_agreement":
        a = pp.embed(gex, copy=True)
        b = pp.embed(gex, copy=True, seed=1)
        before = (a.copy(), b.copy())
        pp.embedding_agreement(a, b)
        assert _same(a, before[0]) and _same(b, before[1])
    elif name == "state_fractions":
        called = tl.call_states(gex, copy=True)
        before = called.copy()
        tl.state_fractions(called)
        assert _same(called, before) and _keys(called) == _keys(before)
    else:
        first = airr.copy()
        first.obs["timepoint"] = "M0"
        first.obs["patient"] = "P1"
        first.obs["sample"] = "S-M0"
        later = first.copy()
        later.obs["timepoint"] = "M3"
        later.obs["sample"] = "S-M3"
        later.obs_names = [f"M3_{name}" for name in later.obs_names]
        samples = {"S-M0": first, "S-M3": later}
        before = {k: v.copy() for k, v in samples.items()}
        tl.track_clones(samples, patient="P1")
        assert all(_same(samples[k], before[k]) for k in samples)
