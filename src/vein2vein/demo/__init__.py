"""The ``vein2vein demo`` / ``make demo`` application, built on the public API.

An application, like the CLI: it runs the synthetic generators of
:mod:`vein2vein.simulate` through the domain packages, opening its own units of work.
No domain package imports it.

- :func:`run_demo`: a synthetic three-site network from donation to lot release and
  follow-up, audited, summarised in a :class:`DemoSummary` (``summary.json``);
- :func:`run_followup` (with :func:`synthetic_patient_table`, the same draws without a
  database) and :func:`run_invivo_program`: its synthetic clinical follow-up and in vivo
  trial, recorded through the domain packages;
- :func:`run_singlecell_demo`: the one part on REAL data, the CARPALL single-cell
  samples named in ``carpall_samples.yaml`` (:func:`read_real_samples`);
- :func:`demo_signing_key`, :func:`prepare_output`: the output folder, key and database
  of a run.
"""

from __future__ import annotations

from ._followup import run_followup, synthetic_patient_table
from ._invivo import run_invivo_program
from ._run import DEMO_PASSWORD, DemoSummary, run_demo
from ._samples import CARPALL_SAMPLES, RealSamples, read_real_samples
from ._setup import DEMO_DATABASE_FILE, DEMO_KEY_FILE, demo_signing_key, prepare_output
from ._singlecell import record_synthetic_profile, run_singlecell_demo

__all__ = [
    "CARPALL_SAMPLES",
    "DEMO_DATABASE_FILE",
    "DEMO_KEY_FILE",
    "DEMO_PASSWORD",
    "DemoSummary",
    "RealSamples",
    "demo_signing_key",
    "prepare_output",
    "read_real_samples",
    "record_synthetic_profile",
    "run_demo",
    "run_followup",
    "run_invivo_program",
    "run_singlecell_demo",
    "synthetic_patient_table",
]
