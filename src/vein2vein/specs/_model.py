"""The specification model: a versioned document of items, each with a criterion.

A specification is written in YAML (see ``docs/validation/specs.md``) and read into
these pydantic models by :func:`vein2vein.specs.load_spec`, which also records the
SHA-256 of the file so that every decision names the exact document it used.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._units import UnitProblem, format_number, parse_unit, pretty_unit

__all__ = [
    "COMPARISONS",
    "QUALITATIVE",
    "SCHEMA_VERSION",
    "Criterion",
    "CriterionKind",
    "FieldProblem",
    "SpecItem",
    "Specification",
    "check_schema_version",
]

SCHEMA_VERSION = 1
"""The version of the specification document format that this code reads."""

CriterionKind = Literal[
    ">=", "<=", ">", "<", "range", "equals", "negative", "not_detected", "conforms", "report"
]
COMPARISONS = (">=", "<=", ">", "<")
QUALITATIVE = ("negative", "not_detected", "conforms")
_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
_KEY = r"^[a-z0-9][a-z0-9_.-]*$"
_FLOAT_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

Finite = Annotated[float, Field(allow_inf_nan=False)]


def check_schema_version(value: int) -> int:
    """Refuse a document format this code does not read, saying what to do."""
    if value != SCHEMA_VERSION:
        msg = (
            f"schema_version {value} is not a version this vein2vein reads (it reads "
            f"{SCHEMA_VERSION}); use a vein2vein release that supports it, or rewrite "
            f"the document to schema_version {SCHEMA_VERSION}"
        )
        raise ValueError(msg)
    return value


class FieldProblem(ValueError):
    """A validation problem that knows which field, below the model, it is about.

    The loader adds ``path`` to the model's location to name the field and its line.
    """

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


class Criterion(BaseModel):
    """An acceptance criterion.

    ``kind`` is one of ``">="``, ``"<="``, ``">"``, ``"<"`` (with a numeric ``value``),
    ``"range"`` (with ``low`` and ``high``, both inclusive), ``"equals"`` (a number or a
    text in ``value``), ``"negative"``, ``"not_detected"``, ``"conforms"`` (qualitative)
    or ``"report"`` (report only, never fails).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CriterionKind
    value: Finite | str | None = None
    low: Finite | None = None
    high: Finite | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _number_text(cls, value: Any) -> Any:
        # YAML 1.1 reads 1.0e8 (no sign in the exponent) as text; take it as the number.
        if isinstance(value, str) and _FLOAT_TEXT.match(value.strip()):
            return float(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        kind = self.kind
        if kind in COMPARISONS or kind == "equals":
            if self.value is None:
                msg = f"criterion {kind!r} needs a value, e.g. value: 80"
                raise FieldProblem(("value",), msg)
            if kind in COMPARISONS and isinstance(self.value, str):
                msg = f"criterion {kind!r} needs a number, not {self.value!r}"
                raise FieldProblem(("value",), msg)
        elif self.value is not None:
            msg = f"criterion {kind!r} takes no value"
            raise FieldProblem(("value",), msg)
        if kind == "range":
            low, high = self.low, self.high
            if low is None or high is None:
                bound = "low" if low is None else "high"
                msg = f"a range needs both low and high (inclusive); {bound} is missing"
                raise FieldProblem((bound,), msg)
            if low > high:
                msg = f"low ({low:g}) is greater than high ({high:g})"
                raise FieldProblem(("low",), msg)
        else:
            for bound in ("low", "high"):
                if getattr(self, bound) is not None:
                    msg = f"only a range takes {bound}; criterion {kind!r} does not"
                    raise FieldProblem((bound,), msg)
        return self

    @property
    def numeric(self) -> bool:
        """Whether the criterion compares numbers."""
        return self.kind in (*COMPARISONS, "range") or (
            self.kind == "equals" and isinstance(self.value, float)
        )

    def text(self, unit: str | None) -> str:
        """The criterion for people, e.g. ``"≥ 80 %"`` or ``"0.2–5 × 10⁶ cells/kg"``."""
        shown = pretty_unit(unit)
        tail = f" {shown}" if shown else ""
        value, low, high = self.value, self.low, self.high
        if self.kind in COMPARISONS and isinstance(value, float):
            return f"{_SYMBOLS[self.kind]} {format_number(value)}{tail}"
        if self.kind == "range" and low is not None and high is not None:
            return f"{format_number(low)}–{format_number(high)}{tail}"
        if self.kind == "equals":
            if isinstance(value, float):
                return f"= {format_number(value)}{tail}"
            return f"= {value}"
        return {"not_detected": "not detected", "report": "report only"}.get(self.kind, self.kind)


class SpecItem(BaseModel):
    """One tested attribute of a specification.

    Attributes
    ----------
    analyte
        The key results are matched on, unique within the specification
        (lower case, digits, ``_ . -``), e.g. ``"viability"``.
    name
        The attribute for people, e.g. ``"viability"`` or ``"sterility (14-day)"``.
    method
        The test method, e.g. ``"flow cytometry (7-AAD)"``.
    unit
        The unit the criterion is expressed in; ``None`` for qualitative items and
        pure numbers.
    criterion
        The acceptance criterion.
    required
        Whether the item gates the overall decision (an optional item is reported but
        neither fails nor holds the decision).
    stage
        Where the item is tested: ``apheresis``, ``in_process``, ``final_product``,
        ``vector_lot`` ... (defaults to the specification's ``stage``).
    conditional
        The item may still be pending at a release at risk (e.g. 14-day sterility).
    loq, uloq
        Lower and upper limit of quantitation, in ``unit``: a result reported as
        ``below LOQ`` is read as ``< loq``, one reported ``above ULOQ`` as ``> uloq``.
    per
        ``"kg"`` for a dose-based limit (``EU/kg``, ``10^6 cells/kg``): a result given
        per mL or as a total is converted with the patient's weight and dose volume.
    note
        Where the limit comes from (citation) and why.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    analyte: str = Field(pattern=_KEY)
    name: str = Field(min_length=1)
    method: str | None = None
    unit: str | None = None
    criterion: Criterion
    required: bool = True
    stage: str | None = None
    conditional: bool = False
    loq: Finite | None = None
    uloq: Finite | None = None
    per: Literal["kg"] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SpecItem:
        kind = self.criterion.kind
        if self.unit is not None:
            try:
                scaled = parse_unit(self.unit)
            except UnitProblem as exc:
                raise FieldProblem(("unit",), str(exc)) from None
            if kind in QUALITATIVE or (kind == "equals" and not self.criterion.numeric):
                msg = f"a {kind!r} criterion is qualitative and takes no unit"
                raise FieldProblem(("unit",), msg)
            if self.per == "kg" and dict(scaled.units.dimensionality).get("[mass]") != -1:
                msg = f"per: kg needs a unit per kilogram (e.g. EU/kg), not {self.unit!r}"
                raise FieldProblem(("per",), msg)
        elif self.per is not None:
            msg = "per: kg needs a unit per kilogram (e.g. EU/kg)"
            raise FieldProblem(("per",), msg)
        numeric = self.criterion.numeric or kind == "report"
        for name in ("loq", "uloq", "per"):
            if getattr(self, name) is not None and not numeric:
                msg = f"{name} applies to numeric criteria only, not to {kind!r}"
                raise FieldProblem((name,), msg)
        if self.loq is not None and self.uloq is not None and self.loq >= self.uloq:
            msg = f"loq ({self.loq:g}) must be below uloq ({self.uloq:g})"
            raise FieldProblem(("loq",), msg)
        return self

    @property
    def criterion_text(self) -> str:
        """The criterion for people, e.g. ``"≥ 80 %"``."""
        return self.criterion.text(self.unit)


class Specification(BaseModel):
    """A versioned specification: what is tested, how, and what is acceptable.

    Attributes
    ----------
    schema_version
        The version of the document format (currently 1).
    id
        A stable key, e.g. ``"anti-cd19-cart-release"``.
    title
        The title for people.
    version
        The document's version, as text (``"1.0"``).
    effective_date
        The date from which the version applies.
    product
        The product (or starting material) the specification is for.
    stage
        The default stage of the items.
    source
        Where the specification comes from (free-text citation).
    items
        The tested attributes, in order.
    sha256
        SHA-256 (hex) of the file the specification was loaded from; set by the loader.
    path
        The file it was loaded from; set by the loader.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int
    id: str = Field(pattern=_KEY)
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective_date: date
    product: str = Field(min_length=1)
    stage: str | None = None
    source: str = Field(min_length=1)
    items: list[SpecItem] = Field(min_length=1)
    sha256: str = ""
    path: str | None = None

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        return check_schema_version(value)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            msg = f'write the version in quotes (version: "{value}") so that 1.10 stays 1.10'
            raise FieldProblem((), msg)
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_stage(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            stage = data.get("stage")
            data = {
                **data,
                "items": [
                    {**item, "stage": stage}
                    if isinstance(item, dict) and item.get("stage") is None and stage
                    else item
                    for item in data["items"]
                ],
            }
        return data

    @model_validator(mode="after")
    def _unique_and_staged(self) -> Specification:
        seen: dict[str, int] = {}
        for index, item in enumerate(self.items):
            if item.analyte in seen:
                msg = f"analyte {item.analyte!r} is already used by items[{seen[item.analyte]}]"
                raise FieldProblem(("items", index, "analyte"), msg)
            seen[item.analyte] = index
            if item.stage is None:
                msg = "no stage: give the item a stage, or the specification a default stage"
                raise FieldProblem(("items", index, "stage"), msg)
        return self

    @property
    def analytes(self) -> list[str]:
        """The item keys, in order."""
        return [item.analyte for item in self.items]

    def item(self, analyte: str) -> SpecItem:
        """The item for ``analyte``.

        Raises
        ------
        KeyError
            When the specification has no such item.
        """
        for item in self.items:
            if item.analyte == analyte:
                return item
        raise KeyError(analyte)
