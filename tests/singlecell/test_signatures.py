"""Signature scores: the shipped sets, and the per-cell score checked against scanpy."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
from scipy import sparse

from vein2vein.singlecell.tl import score_signatures, shipped_signatures


def test_shipped_sets_carry_genes_and_papers() -> None:
    data = shipped_signatures()
    assert data["version"] == "1.0.0"
    sets = data["sets"]
    assert set(sets) == {"exhaustion", "memory", "cytotoxicity", "proliferation", "treg", "type2"}
    assert sets["exhaustion"]["genes"] == [
        "PDCD1",
        "HAVCR2",
        "LAG3",
        "TIGIT",
        "TOX",
        "CTLA4",
        "ENTPD1",
    ]
    assert sets["type2"]["genes"] == ["GATA3", "IL4", "IL5", "IL13"]
    for name, entry in sets.items():
        assert entry["references"], name
        for ref in entry["references"]:
            assert {"authors", "year", "journal", "doi", "title"} <= set(ref), name
            assert ref["doi"].startswith("10."), name


def test_score_is_mean_log1p_cp10k_as_scanpy_normalizes(sorted_gex) -> None:
    a = sorted_gex[:120].copy()
    score_signatures(a)
    ref = a.copy()
    sc.pp.normalize_total(ref, target_sum=1e4)
    sc.pp.log1p(ref)
    genes = shipped_signatures()["sets"]["memory"]["genes"]
    expected = np.asarray(sparse.csr_matrix(ref[:, genes].X).toarray().mean(axis=1)).ravel()
    np.testing.assert_allclose(a.obs["v2v_score_memory"], expected, rtol=1e-5)
    rec = a.uns["v2v_signatures"]
    assert rec["sets"]["memory"]["genes_used"] == genes
    assert rec["sets"]["exhaustion"]["references"][0] == "10.1038/s41591-018-0010-1"
    # The score is a real signal here: sorted CAR T cells express cytotoxic genes far more
    # than type-2 cytokines.
    assert a.obs["v2v_score_cytotoxicity"].median() > a.obs["v2v_score_type2"].median()


def test_custom_sets_and_missing_genes(sorted_gex) -> None:
    a = sorted_gex[:20].copy()
    out = score_signatures(a, signatures={"x": ["CD8A", "NOT_A_GENE"], "none": ["NOPE"]}, copy=True)
    assert out is not None and "v2v_score_x" not in a.obs
    assert out.uns["v2v_signatures"]["sets"]["x"]["genes_missing"] == ["NOT_A_GENE"]
    assert out.obs["v2v_score_none"].isna().all()
    assert out.uns["v2v_signatures"]["version"] == "custom"
    with pytest.raises(ValueError, match="raw UMI counts"):
        b = a.copy()
        b.X = np.log1p(b.X.toarray()) + 0.5
        score_signatures(b)
