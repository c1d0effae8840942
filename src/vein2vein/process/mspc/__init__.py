r"""Batch multivariate statistical process control (MSPC) of bioreactor runs.

Multiway PCA after Nomikos & MacGregor (1994, 1995): the trajectories of J process
parameters (pH, dissolved oxygen, temperature, glucose, lactate, viable cell
density...) of I good reference batches are aligned onto a common grid of K times
(:func:`align_trajectories`), unfolded batch-wise to an I x (K*J) matrix, autoscaled
per column and modelled by PCA (:class:`BatchMSPC`). A batch is judged by Hotelling's
T² of its scores and by its squared prediction error SPE, each against 95 % and 99 %
limits (T²: Beta for the reference batches, F for new batches; SPE: Box's
:math:`g\chi^2_h` or Jackson & Mudholkar). A running batch is monitored online
(:meth:`BatchMSPC.monitor`) with its unknown future completed by current deviations,
zero deviations or projection; contributions say which parameter at which time drove
a signal (:meth:`BatchMSPC.contributions`, :func:`top_contributors`). A fitted model is
stored and versioned as a dictionary (:meth:`BatchMSPC.to_dict`).

Modules: ``_align`` (alignment onto the grid), ``_fit`` (scaling, PCA, reference
statistics), ``_limits`` (limit formulas), ``_online`` (online monitoring,
contributions), ``_state`` (the fitted state and its dictionary form), ``_model``
(:class:`BatchMSPC`), ``_results`` and ``_plot``. Imports: ``errors`` and ``logging``
only; never the system of record (a model is stored by its caller).

Validation: ``docs/validation/mspc.md``; tests: ``tests/process/test_mspc.py``.

References
----------
.. [1] Nomikos P, MacGregor JF (1994). Monitoring batch processes using multiway
   principal component analysis. AIChE J 40:1361-1375.
.. [2] Nomikos P, MacGregor JF (1995). Multivariate SPC charts for monitoring batch
   processes. Technometrics 37:41-59.
.. [3] Tracy ND, Young JC, Mason RL (1992). Multivariate control charts for individual
   observations. J Qual Technol 24:88-95.
.. [4] Jackson JE, Mudholkar GS (1979). Control procedures for residuals associated
   with principal component analysis. Technometrics 21:341-349.
.. [5] Box GEP (1954). Some theorems on quadratic forms applied in the study of analysis
   of variance problems. Ann Math Stat 25:290-302.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from vein2vein.process.mspc import BatchMSPC
>>> rng = np.random.default_rng(0)  # synthetic data
>>> t = np.arange(0.0, 49.0, 4.0)
>>> rows = [(f"B{i}", p, h, base + slope * h + rng.normal(0, 0.05))
...         for i in range(12)
...         for p, base, slope in (("pH", 7.2, -0.004), ("DO", 60.0, -0.3))
...         for h in t]
>>> df = pd.DataFrame(rows, columns=["batch", "parameter", "time", "value"])
>>> model = BatchMSPC().fit(df, n_components=2, grid=t)
>>> model.score(df[df["batch"] == "B0"]).loc[0, "status"] in {"in control", "warning", "alarm"}
True
"""

from __future__ import annotations

from ._align import COLUMNS, AlignedTrajectories, align_trajectories
from ._limits import (
    spe_limit_box,
    spe_limit_jackson_mudholkar,
    t2_limit_phase1,
    t2_limit_phase2,
)
from ._model import BatchMSPC
from ._plot import plot_contributions, plot_monitoring
from ._results import MonitoringResult, top_contributors
from ._state import SCHEMA_VERSION

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "AlignedTrajectories",
    "BatchMSPC",
    "MonitoringResult",
    "align_trajectories",
    "plot_contributions",
    "plot_monitoring",
    "spe_limit_box",
    "spe_limit_jackson_mudholkar",
    "t2_limit_phase1",
    "t2_limit_phase2",
    "top_contributors",
]
