"""Chain of identity: ISBT 128 DINs, registration of donations and batches, custody."""

from __future__ import annotations

from ._custody import CONDITIONS, CustodyRecord, Handoff, check_handoff, log_custody
from ._din import DIN, check_character, check_facility, new_din, parse_din
from ._registry import list_sites, register_donation, register_patient, register_site, start_batch

__all__ = [
    "CONDITIONS",
    "DIN",
    "CustodyRecord",
    "Handoff",
    "check_character",
    "check_facility",
    "check_handoff",
    "list_sites",
    "log_custody",
    "new_din",
    "parse_din",
    "register_donation",
    "register_patient",
    "register_site",
    "start_batch",
]
