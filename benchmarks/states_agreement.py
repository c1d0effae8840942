"""Agreement of the cell-state rule with the CARPALL authors' labels, split by patient.

Not a timing benchmark (``make bench`` runs ``bench_*.py`` only): an analysis script for
choosing a version of ``vein2vein.singlecell.tl.call_states``'s fixed rule honestly.

Every CARPALL gene-expression matrix under ``shared/data/carpall/GEX`` that holds cells
labelled in ``CARTcell_barcodes.txt`` (Anderson et al., Nat Med 2023) is read with
:func:`vein2vein.singlecell.io.read_gex`, cut to its labelled cells, and each rule is
applied to those cells alone (the rule is per cell, so the call of a cell does not depend
on which other cells are present). The authors' labels are mapped exactly as
``tests/singlecell/test_states_validation.py`` maps them (proliferating; naive/TCM and
TCF7+ Tcm -> memory = our naive_stem_memory + central_memory; TEM -> effector_memory;
CTL -> effector_temra; gamma-delta clusters left out), then scored with scikit-learn:
per class precision, recall and one-vs-rest Cohen's kappa, overall kappa and accuracy,
and the lineage agreement (the CD4/CD8/DN prefix of alpha-beta clusters against
``v2v_lineage``).

Samples are split **by patient** (``CARPALL_scRNAseq_CART_metadata.txt``) into a fixed
DEVELOPMENT set, on which rule variants are compared, and a HELD-OUT set, reported once
for the chosen rule. The split below was fixed from the label counts alone, before any
rule was scored per patient: about half the labelled cells each, with one of the two
patients that carry the authors' naive/TCM cells on each side (P02 development, P01
held out).

Usage::

    .venv/bin/python benchmarks/states_agreement.py --json                 # shipped rule
    .venv/bin/python benchmarks/states_agreement.py --rule my.yaml --json  # a candidate
    .venv/bin/python benchmarks/states_agreement.py --variant all --sets development --json

``--variant`` evaluates the named rule variants recorded below (the candidates of rule
1.2.0, written as changes of rule 1.1.0's states); ``--sets`` restricts the output to
some of ``development``, ``held_out`` and ``all``; ``--confusion`` adds the authors' label
by our state table. Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    cohen_kappa_score,
    precision_recall_fscore_support,
)

from vein2vein.singlecell.io import carpall_state, read_carpall_labels, read_gex
from vein2vein.singlecell.tl import call_states, shipped_state_rule

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "carpall"

#: Fixed patient split (9 patients with labelled cells in the GEX matrices we hold).
DEVELOPMENT_PATIENTS = ("P02", "P06", "P08", "P11", "P13")
HELD_OUT_PATIENTS = ("P01", "P03", "P09", "P10")
SETS = ("development", "held_out", "all")

STATE_CLASSES = ("proliferating", "memory", "effector_memory", "effector_temra")
LINEAGE_CLASSES = ("CD4", "CD8", "DN")
_OURS = {"naive_stem_memory": "memory", "central_memory": "memory"}

# ---------------------------------------------------------------- rule variants
CYTOLYTIC = ["GZMB", "PRF1", "GNLY", "GZMH"]
_TREG = {
    "name": "Treg",
    "lineage": ["CD4", "DN", "DP"],
    "require": [
        {"genes": ["FOXP3"], "min_detected": 1},
        {"genes": ["IL2RA", "CTLA4", "IKZF2"], "min_detected": 1},
    ],
}
_CYCLE = ["MKI67", "TOP2A", "CDK1", "CCNB1", "CENPF", "BIRC5", "TPX2", "UBE2C", "TYMS"]
_PROLIF = {
    "name": "proliferating",
    "require": [{"genes": [*_CYCLE, "PCNA", "MCM2"], "min_detected": 3}],
}
_EXH = {
    "name": "exhausted",
    "require": [
        {
            "genes": ["PDCD1", "HAVCR2", "LAG3", "TIGIT", "TOX", "CTLA4", "ENTPD1"],
            "min_detected": 4,
        }
    ],
}


def _states_1_1_0() -> list[dict[str, Any]]:
    """Rule 1.1.0's states, as shipped before 1.2.0 (for reproducing its numbers)."""
    return [
        _TREG,
        _PROLIF,
        _EXH,
        {
            "name": "naive_stem_memory",
            "require": [
                {"genes": ["CCR7", "SELL"], "min_detected": 1},
                {"genes": ["TCF7", "LEF1"], "min_detected": 1},
                {"genes": CYTOLYTIC, "max_detected": 0},
            ],
        },
        {"name": "central_memory", "require": [{"genes": ["CCR7", "SELL"], "min_detected": 1}]},
        {
            "name": "effector_temra",
            "require": [
                {"genes": CYTOLYTIC, "min_detected": 2},
                {"genes": ["IL7R"], "max_detected": 0},
            ],
        },
        {"name": "effector_memory", "require": []},
    ]


def _set_state(states: list[dict[str, Any]], name: str, require: list[Any]) -> None:
    for s in states:
        if s["name"] == name:
            s["require"] = require
            return
    msg = f"no state {name}"
    raise KeyError(msg)


_BOTH_HOMING = {"genes": ["CCR7", "SELL"], "min_detected": 2}
_TCF7_LEF1 = {"genes": ["TCF7", "LEF1"], "min_detected": 1}
_NO_CYTO = {"genes": CYTOLYTIC, "max_detected": 0}
_AT_MOST_1_CYTO = {"genes": CYTOLYTIC, "max_detected": 1}
_TWO_CYTO = {"genes": CYTOLYTIC, "min_detected": 2}
_NO_GZMK = {"genes": ["GZMK"], "max_detected": 0}
_NO_IL7R = {"genes": ["IL7R"], "max_detected": 0}


def _variant_states(name: str) -> list[dict[str, Any]]:
    """The states of one variant; each letter adds to the one before unless noted.

    A  central memory needs CCR7 *and* SELL (Sallusto 1999: TCM are CCR7+ CD62L+).
    B  A, and naive/stem-like memory also needs CCR7 and SELL (naive and stem-cell
       memory are CCR7+ CD62L+ as well; Sallusto 1999, Gattinoni 2011), plus TCF7 or
       LEF1 and no cytolytic gene as before.
    C  B, and central memory allows at most 1 cytolytic gene (TCM lack immediate
       effector function; Sallusto 1999).
    D  C, and effector/TEMRA is >= 2 cytolytic genes without GZMK (GZMK marks effector
       memory, GZMH/GZMB/GNLY/PRF1 terminal effectors; Szabo 2019, Guo 2018, Galletti
       2020), replacing the "no IL7R" clause.
    E  C, and effector/TEMRA is >= 2 cytolytic genes without GZMK and without IL7R.
    F  D, but naive/stem-like memory as >= 2 of CCR7/SELL/TCF7/LEF1 with no cytolytic
       gene (a looser reading of the same papers).
    """
    states = copy.deepcopy(_states_1_1_0())
    if name == "1.1.0":
        return states
    _set_state(states, "central_memory", [_BOTH_HOMING])
    if name == "A":
        return states
    _set_state(states, "naive_stem_memory", [_BOTH_HOMING, _TCF7_LEF1, _NO_CYTO])
    if name == "B":
        return states
    _set_state(states, "central_memory", [_BOTH_HOMING, _AT_MOST_1_CYTO])
    if name == "C":
        return states
    if name == "E":
        _set_state(states, "effector_temra", [_TWO_CYTO, _NO_GZMK, _NO_IL7R])
        return states
    _set_state(states, "effector_temra", [_TWO_CYTO, _NO_GZMK])
    if name == "D":
        return states
    if name == "F":
        four = {"genes": ["CCR7", "SELL", "TCF7", "LEF1"], "min_detected": 2}
        _set_state(states, "naive_stem_memory", [four, _NO_CYTO])
        return states
    msg = f"unknown variant {name!r}"
    raise KeyError(msg)


VARIANTS = ("1.1.0", "A", "B", "C", "D", "E", "F")


def variant_rule(name: str) -> dict[str, Any]:
    """A whole rule mapping for a variant: the shipped lineage part, the variant's states."""
    base = shipped_state_rule().model_dump(mode="json")
    base["rule_version"] = f"variant {name}"
    base["states"] = _variant_states(name)
    return base


# ---------------------------------------------------------------- data
def load_labelled(data: Path) -> list[tuple[str, str, Any]]:
    """(sample, patient, AnnData of its labelled cells with ``obs["CellType1"]``)."""
    labels = read_carpall_labels(data)
    meta = pd.read_csv(data / "CARPALL_scRNAseq_CART_metadata.txt", sep="\t")
    patient_of = dict(zip(meta["GEX_Sample"], meta["Patient"], strict=True))
    out = []
    for folder in sorted((data / "GEX").iterdir()):
        sub = labels[labels["sample"] == folder.name].set_index("barcode")
        if sub.empty:
            continue
        print(f"reading {folder.name} ({len(sub)} labelled cells)", file=sys.stderr)
        a = read_gex(folder / "filtered_feature_bc_matrix.h5")
        a = a[a.obs_names.isin(sub.index)].copy()
        a.obs["CellType1"] = sub.loc[a.obs_names, "label"].to_numpy()
        a.obs["author_lineage"] = sub.loc[a.obs_names, "lineage"].to_numpy()
        out.append((folder.name, patient_of[folder.name], a))
    patients = {p for _, p, _ in out}
    if patients != set(DEVELOPMENT_PATIENTS) | set(HELD_OUT_PATIENTS):
        msg = f"patients with labelled cells {sorted(patients)} do not match the fixed split"
        raise SystemExit(msg)
    return out


def call_all(samples: list[tuple[str, str, Any]], rule: Any) -> pd.DataFrame:
    """Each sample's labelled cells called alone; one row per cell."""
    rows = []
    for name, patient, a in samples:
        b = call_states(a, rule=rule, copy=True)
        assert b is not None
        obs = b.obs[["CellType1", "author_lineage", "v2v_lineage", "v2v_state"]].copy()
        for column in ("CellType1", "v2v_lineage", "v2v_state"):
            obs[column] = obs[column].astype(str)
        rows.append(obs.assign(sample=name, patient=patient))
    return pd.concat(rows)


# ---------------------------------------------------------------- metrics
def _per_class(authors: pd.Series, ours: pd.Series, classes: tuple[str, ...]) -> dict[str, Any]:
    p, r, _, n = precision_recall_fscore_support(
        authors, ours, labels=list(classes), zero_division=0
    )
    return {
        c: {
            "n": int(n[i]),
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "kappa": round(float(cohen_kappa_score(authors == c, ours == c)), 4),
        }
        for i, c in enumerate(classes)
    }


def agreement(calls: pd.DataFrame, *, confusion: bool = False) -> dict[str, Any]:
    """State and lineage agreement of one set of called cells."""
    authors = calls["CellType1"].map(carpall_state)
    keep = authors.notna()
    a_state, o_state = authors[keep], calls.loc[keep, "v2v_state"].replace(_OURS)
    ab = calls["author_lineage"].notna()
    a_lin = calls.loc[ab, "author_lineage"]
    o_lin = calls.loc[ab, "v2v_lineage"].astype(str)
    out: dict[str, Any] = {
        "samples": sorted(calls["sample"].unique()),
        "patients": sorted(calls["patient"].unique()),
        "n_labelled": len(calls),
        "state": {
            "n": int(keep.sum()),
            "kappa": round(float(cohen_kappa_score(a_state, o_state)), 4),
            "accuracy": round(float(accuracy_score(a_state, o_state)), 4),
            "classes": _per_class(a_state, o_state, STATE_CLASSES),
        },
        "lineage": {
            "n": int(ab.sum()),
            "kappa": round(float(cohen_kappa_score(a_lin, o_lin)), 4),
            "accuracy": round(float(accuracy_score(a_lin, o_lin)), 4),
            "classes": _per_class(a_lin, o_lin, LINEAGE_CLASSES),
        },
        "our_states": calls["v2v_state"].value_counts().to_dict(),
    }
    if confusion:
        table = pd.crosstab(calls["CellType1"], calls["v2v_state"])
        out["confusion"] = {str(k): v for k, v in table.to_dict(orient="index").items()}
    return out


def evaluate(
    samples: list[tuple[str, str, Any]], rule: Any, sets: list[str], *, confusion: bool
) -> dict[str, Any]:
    calls = call_all(samples, rule)
    chosen = {
        "development": calls[calls["patient"].isin(DEVELOPMENT_PATIENTS)],
        "held_out": calls[calls["patient"].isin(HELD_OUT_PATIENTS)],
        "all": calls,
    }
    return {s: agreement(chosen[s], confusion=confusion) for s in sets}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rule", action="append", default=[], help="candidate rule YAML")
    ap.add_argument("--variant", action="append", default=[], help=f"one of {VARIANTS} or 'all'")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of sets")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the carpall folder")
    ap.add_argument("--confusion", action="store_true", help="add confusion tables")
    ap.add_argument("--json", action="store_true", help="print JSON (the only output form)")
    args = ap.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    if not set(sets) <= set(SETS):
        ap.error(f"--sets must name some of {SETS}")
    variants = list(VARIANTS) if "all" in args.variant else args.variant
    for v in variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}; known: {VARIANTS}")
    rules: list[tuple[str, Any]] = [(f"variant {v}", variant_rule(v)) for v in variants]
    rules += [(str(p), Path(p)) for p in args.rule]
    if not rules:
        rules = [("shipped", None)]
    samples = load_labelled(args.data)
    results = []
    for label, rule in rules:
        print(f"evaluating {label}", file=sys.stderr)
        version = shipped_state_rule().rule_version if rule is None else None
        if isinstance(rule, Path):
            version = shipped_state_rule(rule).rule_version
        results.append(
            {
                "rule": label,
                "rule_version": version or label,
                **evaluate(samples, rule, sets, confusion=args.confusion),
            }
        )
    split = {"development": list(DEVELOPMENT_PATIENTS), "held_out": list(HELD_OUT_PATIENTS)}
    print(json.dumps({"split_by_patient": split, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
