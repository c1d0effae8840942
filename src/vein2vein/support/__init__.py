"""Written once, used by every package: declared input, safe output.

What lives here is the one way vein2vein does a thing that every domain needs:

- :data:`QUANTITIES` and :func:`check_quantity`: each physical quantity (temperature,
  percent, pH, body weight, volume, amount, study day, probability ...) declared once
  with its unit and the range a real value can take; every numeric input is checked
  against its quantity (finite, possible) before it is stored or computed with.
- :func:`read_table` with :class:`TableSchema` and :class:`Column`: the one
  tabular-input layer; a CSV file read against declared columns (required, type,
  blank, allowed values, quantity and unit) into a pandas table indexed by line, or
  one :class:`~vein2vein.errors.TableInputError` naming the file, line and column.
- :func:`write_csv`: the one CSV writer, which neutralises formula-leading text cells
  so that an export is safe to open in a spreadsheet (OWASP "CSV injection").
- :func:`read_yaml_mapping`: strict YAML input that refuses duplicate and unknown keys
  with the file, line and key.
- :data:`SYNTHETIC_LABEL`: the label put on synthetic data (by ``simulate``) and
  recognised by the readers (``singlecell``) without importing the generators.
- :func:`render` and :func:`report_environment`: the one report renderer (Jinja,
  autoescaped, strict about missing values, the shared number filters).
- :func:`figure_png`, :func:`figure_data_uri` and :func:`save_figure`: the one way a
  figure becomes a PNG (one resolution, :data:`FIGURE_DPI`; reproducible bytes).
- :func:`format_number`: the one number formatter, in the house styles.

This package imports nothing of vein2vein but :mod:`vein2vein.errors`, so that every
domain package (``records``, ``specs``, ``identity`` included) may import it.
"""

from __future__ import annotations

from ._csv import FORMULA_PREFIXES, neutralise_cell, write_csv
from ._figures import FIGURE_DPI, figure_data_uri, figure_png, save_figure
from ._labels import SYNTHETIC_LABEL
from ._numbers import format_number, round_sig
from ._quantities import QUANTITIES, Quantity, check_finite, check_quantity
from ._reports import REPORT_FILTERS, render, report_environment
from ._tabular import (
    MAX_NOTES,
    Column,
    TableSchema,
    raise_collected,
    read_table,
    read_text_file,
)
from ._yaml import read_yaml_mapping

__all__ = [
    "FIGURE_DPI",
    "FORMULA_PREFIXES",
    "MAX_NOTES",
    "QUANTITIES",
    "REPORT_FILTERS",
    "SYNTHETIC_LABEL",
    "Column",
    "Quantity",
    "TableSchema",
    "check_finite",
    "check_quantity",
    "figure_data_uri",
    "figure_png",
    "format_number",
    "neutralise_cell",
    "raise_collected",
    "read_table",
    "read_text_file",
    "read_yaml_mapping",
    "render",
    "report_environment",
    "round_sig",
    "save_figure",
    "write_csv",
]
