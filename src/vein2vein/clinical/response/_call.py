"""The result of a response assessment, shared by every criteria set.

Every ``assess_*`` function returns a :class:`ResponseCall`: a ``str`` equal to the
category (``"CR"``, ``"PR"`` ...) that also carries ``reason``, the rule that decided it,
in words, for the record. Validation notes: ``docs/validation/response.md``.
"""

from __future__ import annotations

__all__ = ["ResponseCall"]


class ResponseCall(str):
    """A response category (compares equal to its ``str``) with the reason in words.

    Examples
    --------
    >>> call = ResponseCall("PR", "SPD decreased by 50.0 % from baseline")
    >>> call == "PR", call.reason
    (True, 'SPD decreased by 50.0 % from baseline')
    """

    reason: str

    def __new__(cls, category: str, reason: str) -> ResponseCall:
        obj = super().__new__(cls, category)
        obj.reason = reason
        return obj

    def __repr__(self) -> str:
        return f"ResponseCall({str(self)!r}, {self.reason!r})"
