"""Clinical follow-up in the system of record: writers, CSV readers, all-or-nothing imports.

``_writers`` records an infusion, toxicity, response or kinetics sample through a
:class:`~vein2vein.records.UnitOfWork` it receives (it never opens one); ``_csv`` reads
and validates follow-up CSV files whole, naming file, line and field of a problem;
``_imports`` stores such a file through the writers, all rows or none.

Imports: ``grading`` (observation models and cell conversion), ``response``
(:class:`MRDResult`), ``records``, ``support`` and ``errors``; never ``outcomes``.
This is the only clinical subpackage that writes records.
"""

from __future__ import annotations

from ._csv import (
    KINETICS_COLUMNS,
    RESPONSE_COLUMNS,
    read_kinetics_csv,
    read_levels_csv,
    read_observations_csv,
    read_responses_csv,
)
from ._imports import RecordedFile, import_kinetics, import_responses, import_toxicity
from ._writers import (
    RESPONSE_CATEGORIES,
    record_infusion,
    record_kinetics,
    record_response,
    record_toxicity,
)

__all__ = [
    "KINETICS_COLUMNS",
    "RESPONSE_CATEGORIES",
    "RESPONSE_COLUMNS",
    "RecordedFile",
    "import_kinetics",
    "import_responses",
    "import_toxicity",
    "read_kinetics_csv",
    "read_levels_csv",
    "read_observations_csv",
    "read_responses_csv",
    "record_infusion",
    "record_kinetics",
    "record_response",
    "record_toxicity",
]
