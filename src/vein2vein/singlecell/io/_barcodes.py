"""One convention for cell names across GEX and TCR: ``f"{sample}_{barcode}"``.

Cell Ranger barcodes (``AAACCTGAGAAACGCC-1``) repeat between samples, so every reader that
is given a sample name prefixes the barcode with it and an underscore. GEX and TCR readers
both call :func:`prefix_barcodes`, so the same cell has the same name in both modalities
and a MuData joins them without further work.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import InvalidInputError

__all__ = ["SEPARATOR", "prefix_barcodes", "split_barcode"]

SEPARATOR = "_"


def prefix_barcodes(barcodes: Iterable[str], sample: str | None) -> list[str]:
    """Return ``f"{sample}_{barcode}"`` for each barcode (unchanged when ``sample`` is None).

    Parameters
    ----------
    barcodes
        Cell barcodes as the instrument wrote them.
    sample
        Sample name; must be non-empty when given.

    Returns
    -------
    list of str
        The cell names.

    Examples
    --------
    >>> prefix_barcodes(["AAAC-1", "TTTG-1"], "CAR-T11141511")
    ['CAR-T11141511_AAAC-1', 'CAR-T11141511_TTTG-1']
    """
    if sample is None:
        return [str(b) for b in barcodes]
    if not str(sample).strip():
        reason = "sample name is empty"
        raise InvalidInputError(reason, field="sample")
    return [f"{sample}{SEPARATOR}{b}" for b in barcodes]


def split_barcode(name: str) -> tuple[str | None, str]:
    """Split a cell name made by :func:`prefix_barcodes` into ``(sample, barcode)``.

    The split is at the last underscore, since 10x barcodes contain none but sample names
    may. A name without an underscore has no sample.

    Parameters
    ----------
    name
        A cell name.

    Returns
    -------
    tuple
        ``(sample or None, barcode)``.

    Examples
    --------
    >>> split_barcode("P02_M0_AAAC-1")
    ('P02_M0', 'AAAC-1')
    >>> split_barcode("AAAC-1")
    (None, 'AAAC-1')
    """
    sample, sep, barcode = name.rpartition(SEPARATOR)
    return (sample, barcode) if sep else (None, barcode)
