"""What every typed result shares: a JSON-ready ``to_dict`` and a one-row ``to_frame``."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """``value`` as plain JSON-ready Python: NaN becomes None, tuples lists, numpy scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if isinstance(value, ResultMixin) else plain(vars(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return None if math.isnan(number) else number
    return value


class ResultMixin:
    """``to_dict`` (fields plus the properties named in ``_extra``) and ``to_frame``."""

    _extra: tuple[str, ...] = ("conclusion",)

    def to_dict(self) -> dict[str, Any]:
        """All fields and the conclusion as plain, JSON-ready Python values."""
        fields = dataclasses.fields(self)  # type: ignore[arg-type]  # a mixin of dataclasses
        out = {f.name: plain(getattr(self, f.name)) for f in fields}
        for name in self._extra:
            out[name] = plain(getattr(self, name))
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row: the scalar fields, lists of text (caveats, lots) joined with ``"; "``.

        Nested records (the pairs of a paired analysis) are left out; see ``to_dict``.
        """
        row: dict[str, Any] = {}
        for key, value in self.to_dict().items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                row[key] = "; ".join(value)
            elif not isinstance(value, list | dict):
                row[key] = value
        return pd.DataFrame([row])
