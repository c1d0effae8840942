"""Written once, used by every package: declared input, safe output.

What lives here is the one way vein2vein does a thing that every domain needs:

- :data:`QUANTITIES` and :func:`check_quantity`: each physical quantity (temperature,
  percent, pH, body weight, volume, amount, study day, probability ...) declared once
  with its unit and the range a real value can take; every numeric input is checked
  against its quantity (finite, possible) before it is stored or computed with.
- :func:`write_csv`: the one CSV writer, which neutralises formula-leading text cells
  so that an export is safe to open in a spreadsheet (OWASP "CSV injection").
- :func:`read_yaml_mapping`: strict YAML input that refuses duplicate and unknown keys
  with the file, line and key.
- :data:`SYNTHETIC_LABEL`: the label put on synthetic data (by ``simulate``) and
  recognised by the readers (``singlecell``) without importing the generators.

This package imports nothing of vein2vein but :mod:`vein2vein.errors`, so that every
domain package (``records``, ``specs``, ``identity`` included) may import it.
"""

from __future__ import annotations

from ._csv import FORMULA_PREFIXES, neutralise_cell, write_csv
from ._labels import SYNTHETIC_LABEL
from ._quantities import QUANTITIES, Quantity, check_finite, check_quantity
from ._yaml import read_yaml_mapping

__all__ = [
    "FORMULA_PREFIXES",
    "QUANTITIES",
    "SYNTHETIC_LABEL",
    "Quantity",
    "check_finite",
    "check_quantity",
    "neutralise_cell",
    "read_yaml_mapping",
    "write_csv",
]
