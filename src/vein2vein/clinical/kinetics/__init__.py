"""CAR-T cellular kinetics: NCA, the Stein et al. (2019) model, exposure by response.

``_nca`` holds the non-compartmental analysis of one patient's transgene levels (Cmax,
Tmax, AUC0-28, Clast/Tlast, persistence); ``_stein`` the expansion and bi-exponential
contraction model and its fit; ``_exposure`` the exposure of responders against
non-responders per indication and the kinetics plot.

Imports: ``errors`` only (numpy, scipy, pandas; matplotlib lazily); never the system of
record. Reading kinetics CSV files and recording samples is :mod:`..followup`'s job.
"""

from __future__ import annotations

from ._exposure import exposure_by_response, plot_kinetics
from ._nca import NCAResult, nca
from ._stein import TYPICAL_PATIENT, SteinFit, SteinParameters, fit_stein, stein_curve

__all__ = [
    "TYPICAL_PATIENT",
    "NCAResult",
    "SteinFit",
    "SteinParameters",
    "exposure_by_response",
    "fit_stein",
    "nca",
    "plot_kinetics",
    "stein_curve",
]
