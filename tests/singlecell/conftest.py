"""Shared single-cell fixtures: the real CARPALL data folder and small real samples.

The data live outside the repository, in ``../shared/data/carpall`` relative to its root;
every fixture skips with the missing path when they are absent. Session-scoped fixtures
hand out shared objects: tests that modify one take ``.copy()`` first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from anndata import AnnData

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"
#: Sorted CAR T cells from marrow, P02 month 5: 337 cells, 195 TCR barcodes (small, fast).
SMALL_SORTED = "CAR-T10484037"
#: Unsorted blood, P02 month 2: 1,005 cells, few CAR+.
SMALL_UNSORTED = "CAR-T10310324"


@pytest.fixture(scope="session")
def carpall_dir() -> Path:
    """The CARPALL folder; skips when the shared data are absent."""
    if not (CARPALL / "CARPALL_scRNAseq_CART_metadata.txt").exists():
        pytest.skip(f"shared data folder missing: {CARPALL} (CARPALL single-cell tests need it)")
    return CARPALL


@pytest.fixture(scope="session")
def carpall_sheet(carpall_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A sample sheet of every CARPALL sample present, written by ``carpall_sample_sheet``."""
    from vein2vein.singlecell.io import carpall_sample_sheet

    out = tmp_path_factory.mktemp("carpall") / "samples.csv"
    return carpall_sample_sheet(carpall_dir, out)


@pytest.fixture(scope="session")
def sorted_gex(carpall_sheet) -> AnnData:
    """Raw counts of the small sorted CAR T sample, annotated from the sheet (read-only)."""
    from vein2vein.singlecell.io import load_sample

    return load_sample(carpall_sheet[SMALL_SORTED])["gex"]


@pytest.fixture(scope="session")
def unsorted_gex(carpall_sheet) -> AnnData:
    """Raw counts of the small unsorted blood sample, annotated from the sheet (read-only)."""
    from vein2vein.singlecell.io import load_sample

    return load_sample(carpall_sheet[SMALL_UNSORTED])["gex"]
