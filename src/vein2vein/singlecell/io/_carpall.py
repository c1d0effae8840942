"""The CARPALL authors' CAR T cell labels, mapped onto the states of ``tl.call_states``."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ...errors import InvalidInputError

__all__ = ["carpall_state", "read_carpall_labels"]

_LABEL_FILE = "CARTcell_barcodes.txt"


def carpall_state(label: str) -> str | None:
    """Our state for one of the CARPALL authors' cluster labels, or None.

    ``Proliferating CAR T`` -> ``proliferating``; ``CD4/CD8 Naive/TCM`` and ``TCF7+ Tcm``
    -> ``memory`` (our naive/stem-like plus central memory); ``CD4/CD8/DN TEM`` ->
    ``effector_memory``; ``CD4/CD8 CTL`` -> ``effector_temra``; gamma-delta clusters have
    no counterpart (None).

    Examples
    --------
    >>> [carpall_state(s) for s in ["DN TEM", "CD8 CTL", "TCF7+ Tcm", "CD8 gdT"]]
    ['effector_memory', 'effector_temra', 'memory', None]
    """
    if label.startswith("Proliferating"):
        return "proliferating"
    if "Naive/TCM" in label or "Tcm" in label:
        return "memory"
    if label.endswith("TEM"):
        return "effector_memory"
    if label.endswith("CTL"):
        return "effector_temra"
    return None


def read_carpall_labels(data_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The authors' labels of CARPALL CAR T cells, with our state and lineage for each.

    Parameters
    ----------
    data_dir
        The CARPALL folder holding ``CARTcell_barcodes.txt`` (``CellID`` =
        ``<sample>_<barcode>``, ``CellType1`` = the authors' cluster).

    Returns
    -------
    pandas.DataFrame
        ``sample``, ``barcode``, ``label`` (the authors'), ``state`` (:func:`carpall_state`)
        and ``lineage`` (the label's CD4/CD8/DN prefix for alpha-beta clusters; None for
        gamma-delta, proliferating and ``TCF7+ Tcm`` clusters, which name no lineage).

    Raises
    ------
    InvalidInputError
        When the file is missing or lacks ``CellID``/``CellType1``.

    References
    ----------
    .. [1] Anderson ND et al. (2023) Transcriptional signatures associated with persisting
       CD19 CAR-T cells in children with leukemia. Nat Med 29:1700-1709.
       doi:10.1038/s41591-023-02415-3
    """
    path = Path(data_dir) / _LABEL_FILE
    if not path.is_file():
        msg = "the CARPALL label file is missing"
        raise InvalidInputError(msg, file=str(path))
    table = pd.read_csv(path, sep="\t", dtype=str)
    for column in ("CellID", "CellType1"):
        if column not in table:
            msg = f"column {column} is missing"
            raise InvalidInputError(msg, file=str(path), field=column)
    parts = table["CellID"].str.split("_", n=1)
    label = table["CellType1"]
    prefix = label.str.split().str[0]
    # alpha-beta clusters named by lineage; not gamma-delta, proliferating or "TCF7+ Tcm"
    alpha_beta = prefix.isin(["CD4", "CD8", "DN"]) & ~label.str.contains("gdT")
    return pd.DataFrame(
        {
            "sample": parts.str[0],
            "barcode": parts.str[1],
            "label": label,
            "state": label.map(carpall_state),
            "lineage": prefix.where(alpha_beta, None),
        }
    )
