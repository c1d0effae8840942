"""The result of clone tracking: per-sample table, top clones, overlaps, state origin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ...support import save_figure, write_csv

__all__ = ["TrackingResult"]


@dataclass(frozen=True)
class TrackingResult:
    """Product clones followed through one patient's samples (see :func:`track_clones`).

    Attributes
    ----------
    patient
        The patient, if known.
    product_timepoint
        The product's timepoint label.
    product_samples
        Samples at the product timepoint (pooled as "the product").
    samples
        One row per sample, ordered by months (see :meth:`to_frame`).
    top_clones
        Long table: the ``top_n`` product clones in every sample.
    morisita_horn
        Sample x sample Morisita-Horn overlap.
    jaccard
        Sample x sample Jaccard index.
    state_origin
        Product cells by state, for clones that persist and that do not (None without a
        state column).
    params
        The parameters of the run.
    """

    patient: str | None
    product_timepoint: str
    product_samples: tuple[str, ...]
    samples: pd.DataFrame
    top_clones: pd.DataFrame
    morisita_horn: pd.DataFrame
    jaccard: pd.DataFrame
    state_origin: pd.DataFrame | None
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Per-sample table.

        Returns
        -------
        pandas.DataFrame
            Columns ``sample``, ``timepoint``, ``months``, ``is_product``, ``n_cells``
            (cells with a clonotype), ``n_clones``, ``fraction_in_product_clones``,
            ``n_product_clones_present``, ``n_car_positive``,
            ``fraction_car_positive_in_product_clones`` (NaN without a CAR call),
            ``morisita_horn_to_product``, ``jaccard_to_product``.
        """
        return self.samples.reset_index(drop=True).copy()

    def save(self, folder: str | Path, *, name: str | None = None) -> list[Path]:
        """Write the tables and the tracking plot into ``folder``.

        Parameters
        ----------
        folder
            Created if needed.
        name
            File-name prefix; the patient by default.

        Returns
        -------
        list of pathlib.Path
            ``<name>.tracking.csv`` (:meth:`to_frame`), ``.top_clones.csv``,
            ``.morisita_horn.csv``, ``.jaccard.csv``, ``.state_origin.csv`` (when states
            were called) and ``.tracking.png``
            (:func:`~vein2vein.singlecell.pl.clonotype_tracking`).
        """
        from ..pl._clones import clonotype_tracking

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        stem = name or self.patient or "patient"
        tables: dict[str, tuple[pd.DataFrame, bool]] = {
            "tracking": (self.to_frame(), False),
            "top_clones": (self.top_clones, False),
            "morisita_horn": (self.morisita_horn, True),
            "jaccard": (self.jaccard, True),
        }
        if self.state_origin is not None:
            tables["state_origin"] = (self.state_origin, True)
        written = []
        for kind, (table, index) in tables.items():
            path = out / f"{stem}.{kind}.csv"
            write_csv(table, path, index=index)
            written.append(path)
        plot = out / f"{stem}.tracking.png"
        save_figure(clonotype_tracking(self), plot)
        written.append(plot)
        return written
