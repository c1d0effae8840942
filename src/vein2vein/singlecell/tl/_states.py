"""CD4/CD8 lineage and T-cell states by a fixed, shipped, versioned per-cell rule."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from anndata import AnnData
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ... import logging as v2vlog
from ...errors import InvalidInputError, MissingGenesWarning
from ._signatures import _load_yaml, log1p_cp10k

__all__ = ["LINEAGES", "StateRule", "call_states", "shipped_state_rule", "state_fractions"]

LINEAGES = ("CD4", "CD8", "DP", "DN", "non_T")
NON_T = "non_T"


class Clause(BaseModel):
    """At least ``min_detected`` or at most ``max_detected`` of ``genes`` detected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    genes: tuple[str, ...]
    min_detected: int | None = None
    max_detected: int | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Clause:
        if (self.min_detected is None) == (self.max_detected is None):
            msg = "give exactly one of min_detected and max_detected"
            raise ValueError(msg)
        return self


class StateDef(BaseModel):
    """One state: its name, optional lineage restriction and clauses (all must hold)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    lineage: tuple[str, ...] | None = None
    require: tuple[Clause, ...] = ()


class Lineage(BaseModel):
    """Genes of the lineage call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    t_cell: tuple[str, ...]
    cd8: tuple[str, ...]
    cd4: tuple[str, ...]


class StateRule(BaseModel):
    """A versioned state rule, as shipped in ``singlecell/data/states.yaml``.

    Attributes
    ----------
    rule_version
        Version of the rule; recorded with every call.
    detect_above
        A gene is detected in a cell when its log1p(CP10k) exceeds this value.
    lineage
        Gene lists for T cell (CD3), CD8 and CD4.
    states
        Ordered state definitions; the first that matches a T cell wins.
    references
        Papers the rule's markers come from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_version: str
    detect_above: float
    lineage: Lineage
    states: tuple[StateDef, ...]
    references: tuple[dict[str, Any], ...] = ()

    def genes(self) -> list[str]:
        """Every gene the rule reads, in first-use order."""
        out: list[str] = [*self.lineage.t_cell, *self.lineage.cd8, *self.lineage.cd4]
        for s in self.states:
            for c in s.require:
                out.extend(c.genes)
        return list(dict.fromkeys(out))


def shipped_state_rule(path: str | os.PathLike[str] | None = None) -> StateRule:
    """Load the shipped state rule, or a rule file in the same format.

    Parameters
    ----------
    path
        A YAML rule file; default: the shipped ``singlecell/data/states.yaml``.

    Returns
    -------
    StateRule
        The validated rule.

    Raises
    ------
    InvalidInputError
        When the file cannot be read or does not validate (naming the file and field).

    Examples
    --------
    >>> rule = shipped_state_rule()
    >>> rule.rule_version, [s.name for s in rule.states][:3]
    ('1.2.0', ['Treg', 'proliferating', 'exhausted'])
    """
    source = "states.yaml (shipped)" if path is None else os.fspath(path)
    try:
        data = _load_yaml("states.yaml") if path is None else yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        msg = f"cannot read the state rule: {exc}"
        raise InvalidInputError(msg, file=source) from None
    return _validate_rule(data, source)


def _validate_rule(data: object, source: str) -> StateRule:
    try:
        return StateRule.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(first["msg"], file=source, field=field) from None


def _as_rule(rule: StateRule | Mapping[str, Any] | str | os.PathLike[str] | None) -> StateRule:
    if rule is None:
        return shipped_state_rule()
    if isinstance(rule, StateRule):
        return rule
    if isinstance(rule, Mapping):
        return _validate_rule(dict(rule), "state rule (mapping)")
    return shipped_state_rule(rule)


def call_states(
    adata: AnnData,
    *,
    rule: StateRule | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    layer: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Call CD4/CD8 lineage and T-cell states per cell by a fixed, versioned rule.

    Each cell is judged on its own normalized expression, ``log1p(10,000 x UMI / cell
    total)``, through gene detection (value above ``rule.detect_above``): no quantiles,
    clustering or other dataset-level statistic enters, so the same cell gets the same
    call whichever cells it is analysed with, in any sample, run or institution. Lineage:
    ``non_T`` without any CD3 chain, else ``CD8``/``CD4`` when only that co-receptor is
    detected, ``DP`` when both, ``DN`` when neither (dropout makes some CD4/CD8 cells DN).
    States, first match wins (shipped rule 1.2.0): ``Treg`` (FOXP3 with IL2RA, CTLA4 or
    IKZF2 [6]_), ``proliferating`` (>= 3 cell-cycle genes [5]_), ``exhausted`` (>= 4 of
    PDCD1, HAVCR2, LAG3, TIGIT, TOX, CTLA4, ENTPD1 [4]_), ``naive_stem_memory``
    (CCR7 and SELL, TCF7 or LEF1, no cytolytic gene [1]_ [2]_ [3]_; naive and stem-cell
    memory cannot be split without CD45RA/CD95 protein), ``central_memory`` (CCR7 and
    SELL, at most one of the cytolytic genes GZMB, PRF1, GNLY, GZMH [1]_),
    ``effector_temra`` (>= 2 cytolytic genes, no IL7R [3]_), else ``effector_memory``.
    Rule 1.2.0 was chosen on development patients of the CARPALL authors' labels and
    reported on held-out patients (``docs/validation/singlecell_states.md``).

    Parameters
    ----------
    adata
        Cells by features with raw counts (``layers["counts"]`` or ``X``).
    rule
        A :class:`StateRule`, a mapping in the YAML's format or the path of a rule file
        (validated as :func:`shipped_state_rule` does); default: the shipped rule.
    layer
        Layer with raw counts; default ``layers["counts"]`` when present, else ``X``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    AnnData | None
        A copy when ``copy=True``. Writes ``obs["v2v_lineage"]`` (categories
        :data:`LINEAGES`), ``obs["v2v_state"]`` (the rule's states and ``non_T``) and
        ``uns["v2v_states"]``: ``rule_version``, ``rule`` (the whole rule, gene lists
        included, as JSON text: ``call_states(adata, rule=json.loads(...))`` repeats the
        call), ``genes_missing`` (read as not detected) and ``counts`` (a lineage by
        state table of cell numbers).

    Raises
    ------
    InvalidInputError
        When ``rule`` is a file or mapping that cannot be read or does not validate.

    References
    ----------
    .. [1] Sallusto F et al. (1999) Two subsets of memory T lymphocytes with distinct homing
       potentials and effector functions. Nature 401:708-712. doi:10.1038/44385
    .. [2] Gattinoni L et al. (2011) A human memory T cell subset with stem cell-like
       properties. Nat Med 17:1290-1297. doi:10.1038/nm.2446
    .. [3] Szabo PA et al. (2019) Single-cell transcriptomics of human T cells reveals tissue
       and activation signatures in health and disease. Nat Commun 10:4706.
       doi:10.1038/s41467-019-12464-3
    .. [4] Sade-Feldman M et al. (2018) Defining T cell states associated with response to
       checkpoint immunotherapy in melanoma. Cell 175:998-1013.
       doi:10.1016/j.cell.2018.10.038
    .. [5] Tirosh I et al. (2016) Dissecting the multicellular ecosystem of metastatic
       melanoma by single-cell RNA-seq. Science 352:189-196. doi:10.1126/science.aad0501
    .. [6] Zheng C et al. (2017) Landscape of infiltrating T cells in liver cancer revealed
       by single-cell sequencing. Cell 169:1342-1356. doi:10.1016/j.cell.2017.05.035
    """
    rule = _as_rule(rule)
    adata = adata.copy() if copy else adata
    genes = rule.genes()
    present = [g for g in genes if g in adata.var_names]
    missing = [g for g in genes if g not in adata.var_names]
    values = log1p_cp10k(adata, present, layer=layer) if present else np.zeros((adata.n_obs, 0))
    detected = pd.DataFrame(values > rule.detect_above, columns=present, index=adata.obs_names)
    for g in missing:
        detected[g] = False

    def n_detected(gs: tuple[str, ...]) -> np.ndarray[Any, Any]:
        out: np.ndarray[Any, Any] = detected[list(gs)].sum(axis=1).to_numpy()
        return out

    is_t = n_detected(rule.lineage.t_cell) > 0
    cd8 = n_detected(rule.lineage.cd8) > 0
    cd4 = n_detected(rule.lineage.cd4) > 0
    lineage = np.select(
        [~is_t, cd8 & ~cd4, cd4 & ~cd8, cd4 & cd8], [NON_T, "CD8", "CD4", "DP"], default="DN"
    )
    state = np.full(adata.n_obs, "", dtype=object)
    state[~is_t] = NON_T
    for s in rule.states:
        match = state == ""
        if s.lineage is not None:
            match &= np.isin(lineage, s.lineage)
        for c in s.require:
            k = n_detected(c.genes)
            match &= (k >= c.min_detected) if c.min_detected is not None else (k <= c.max_detected)
        state[match] = s.name
    names = [s.name for s in rule.states]
    unassigned = state == ""
    state[unassigned] = "unassigned"  # only when the rule has no catch-all last state
    cats = [*names, NON_T, *(["unassigned"] if unassigned.any() else [])]
    adata.obs["v2v_lineage"] = pd.Categorical(lineage, categories=list(LINEAGES))
    adata.obs["v2v_state"] = pd.Categorical(state, categories=cats)
    adata.uns["v2v_states"] = {
        "rule_version": rule.rule_version,
        # JSON text: nested lists of mappings do not fit the h5ad format
        "rule": rule.model_dump_json(),
        "genes_missing": missing,
        "params": {"layer": layer or ("counts" if "counts" in adata.layers else "X")},
        "counts": pd.crosstab(adata.obs["v2v_lineage"], adata.obs["v2v_state"]),
    }
    if missing:
        v2vlog.warning(
            f"state rule genes missing from the matrix (not detected): {missing}",
            category=MissingGenesWarning,
        )
    v2vlog.info('called states; stored in adata.obs["v2v_lineage"], adata.obs["v2v_state"]')
    return adata if copy else None


def state_fractions(
    adata: AnnData, *, groupby: str = "sample", car_only: bool = False
) -> pd.DataFrame:
    """Fractions of lineages and states per group, among T cells (tidy, for reports).

    Parameters
    ----------
    adata
        After :func:`call_states` (and :func:`~vein2vein.singlecell.tl.car_positive` when
        ``car_only``).
    groupby
        ``obs`` column of the groups.
    car_only
        Restrict to ``obs["car_positive"]`` cells.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``kind`` (``lineage`` or ``state``), ``label``, ``n_cells``,
        ``n_t_cells`` and ``fraction`` (of the group's T cells).
    """
    obs = adata.obs
    if car_only:
        obs = obs[obs["car_positive"].to_numpy(dtype=bool)]
    obs = obs[obs["v2v_state"] != NON_T]
    rows = []
    for group, sub in obs.groupby(groupby, observed=True):
        n_t = len(sub)
        for kind, col in (("lineage", "v2v_lineage"), ("state", "v2v_state")):
            counts = sub[col].value_counts()
            for label, n in counts.items():
                if label == NON_T:
                    continue
                rows.append(
                    {
                        "group": group,
                        "kind": kind,
                        "label": label,
                        "n_cells": int(n),
                        "n_t_cells": n_t,
                        "fraction": n / n_t if n_t else float("nan"),
                    }
                )
    return pd.DataFrame(rows)
