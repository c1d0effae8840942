"""Recording a profile's numbers on a batch as report-only results, audited."""

from __future__ import annotations

import re
from datetime import date
from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Any

from ...errors import InvalidInputError
from ...support import read_yaml_mapping
from ._model import PROFILE_SCHEMA_VERSION, ProductProfile

if TYPE_CHECKING:
    from ...records import AssayResult, UnitOfWork

__all__ = ["RECORD_METHOD", "RECORD_SPEC", "record_profile", "record_spec_header"]

_DATA_PACKAGE = "vein2vein.singlecell.data"

#: The shipped header of the report-only specification that :func:`record_profile` uses.
RECORD_SPEC = "profile_spec.yaml"
_HEADER_KEYS = ("schema_version", "id", "title", "effective_date", "product", "stage")


def record_spec_header() -> dict[str, Any]:
    """The header of the report-only specification under which profiles are recorded.

    Read from ``singlecell/data/profile_spec.yaml`` (``schema_version``, ``id``,
    ``title``, ``effective_date``, ``product``, ``stage``): a fact of the shipped
    definition, not of the code. :func:`record_profile` adds the version
    (:data:`PROFILE_SCHEMA_VERSION`) and one report item per metric.

    Returns
    -------
    dict
        The header fields.

    Examples
    --------
    >>> header = record_spec_header()
    >>> header["id"], str(header["effective_date"])
    ('single-cell-profile', '2026-01-01')
    """
    with as_file(files(_DATA_PACKAGE) / RECORD_SPEC) as path:
        return read_yaml_mapping(path, keys=_HEADER_KEYS, required=_HEADER_KEYS)


#: The ``method`` of recorded profile results: the profile JSON's SHA-256 follows.
RECORD_METHOD = "scRNA-seq profile sha256:"


def _analyte(key: str) -> str:
    return "sc." + re.sub(r"[^a-z0-9_.-]+", "_", key.lower()).strip("_")


_PRODUCT_TIMEPOINT = re.compile(r"^M0+(?:\.0+)?$")


def _check_identity(uow: UnitOfWork, profile: ProductProfile, batch: str) -> None:
    """The profile must be of this batch's patient and of the product (timepoint ``M0``)."""
    from ...records import Batch, require

    require(uow.actor, "result.enter")
    lot = uow.get(Batch, batch)
    expected = lot.patient.patient_code
    where = f"profile {profile.sample}"
    if profile.patient is None or not profile.patient.strip():
        msg = (
            f"{where} names no patient; it cannot be matched to batch {lot.batch_code} "
            f"(patient {expected})"
        )
        raise InvalidInputError(msg, field="patient")
    if profile.patient.strip() != expected:
        msg = (
            f"{where} is of patient {profile.patient!r}, but batch {lot.batch_code} was "
            f"made for patient {expected}"
        )
        raise InvalidInputError(msg, field="patient")
    if profile.timepoint is None or not _PRODUCT_TIMEPOINT.match(profile.timepoint.strip()):
        msg = (
            f"{where} is of timepoint {profile.timepoint!r}, not the product (M0); a sample "
            "taken after infusion is not a result of the batch"
        )
        raise InvalidInputError(msg, field="timepoint")


def record_profile(
    uow: UnitOfWork,
    profile: ProductProfile,
    *,
    batch: str,
    effective_date: date | None = None,
) -> list[AssayResult]:
    """Store a profile's numbers as report-only results on a batch, audited.

    The profile must belong to the batch: its ``patient`` is the batch's patient and
    its ``timepoint`` is the product (``M0``); anything else is refused, naming the field,
    so that no patient's or post-infusion sample's numbers enter a lot's record (chain of
    identity, 21 CFR 211.188 and 1271.290).

    Each value of :meth:`ProductProfile.metrics` becomes one assay result with the
    analyte ``sc.<metric>`` (lower case, other characters as ``_``), entered through
    :func:`vein2vein.release.enter_results` against a specification whose items are all
    of kind ``report`` (report only, never fails): no result opens an OOS investigation,
    and since the items are not part of the lot-release specification they never change
    a disposition. The ``method`` of every result is ``"scRNA-seq profile sha256:"``
    followed by the SHA-256 of the profile JSON (:meth:`ProductProfile.sha256`), the
    reference to the source.

    Parameters
    ----------
    uow
        A unit of work whose actor may enter results.
    profile
        The profile.
    batch
        The batch code.
    effective_date
        The effective date of the report-only specification; default the one shipped in
        ``singlecell/data/profile_spec.yaml`` (:func:`record_spec_header`).

    Returns
    -------
    list of AssayResult
        The stored results.

    Raises
    ------
    InvalidInputError
        The profile names no patient or another patient than the batch's (field
        ``patient``), or is not of the product timepoint ``M0`` (field ``timepoint``).
    """
    from ...release import ResultRow, enter_results
    from ...specs import Criterion, Specification, SpecItem

    _check_identity(uow, profile, batch)
    sha = profile.sha256()
    metrics = {_analyte(k): v for k, v in sorted(profile.metrics().items())}
    header = record_spec_header()
    if effective_date is not None:
        header["effective_date"] = effective_date
    spec = Specification(
        **header,
        version=str(PROFILE_SCHEMA_VERSION),
        source="vein2vein.singlecell.profile",
        items=[
            SpecItem(analyte=a, name=a, criterion=Criterion(kind="report"), stage="final_product")
            for a in metrics
        ],
    )
    rows = [
        ResultRow(
            batch=batch,
            analyte=a,
            value=f"{v:.6g}",
            method=RECORD_METHOD + sha,
        )
        for a, v in metrics.items()
    ]
    return enter_results(uow, rows, spec=spec, source=f"profile {profile.sample}").results
