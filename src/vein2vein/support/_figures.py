"""The one way a matplotlib figure becomes a PNG: one resolution, reproducible bytes.

Every plot vein2vein writes (a report's embedded image, a chart next to a CSV) goes
through here, so that all have the same resolution (:data:`FIGURE_DPI`) and the same
bytes for the same figure: matplotlib writes its version into a PNG's ``Software``
text chunk unless told not to, which would make two runs of one report differ after
an upgrade. The figure is closed once written, so that a long run that draws many
plots does not keep them all in memory.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FIGURE_DPI", "figure_data_uri", "figure_png", "save_figure"]

FIGURE_DPI: Final = 110
"""Dots per inch of every PNG vein2vein writes (sharp on screen, small in an HTML page)."""

_NO_SOFTWARE: Final = {"Software": None}
_NO_DATE: Final = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def _close(fig: Figure) -> None:
    # Only a figure made by pyplot is registered with it (it has a manager); a figure
    # made with the object API is freed with its last reference.
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def figure_png(fig: Figure, *, dpi: int = FIGURE_DPI) -> bytes:
    """The figure as PNG bytes without the ``Software`` metadata; the figure is closed.

    Parameters
    ----------
    fig
        A matplotlib figure (object API or pyplot).
    dpi
        Resolution; the house policy is :data:`FIGURE_DPI`.

    Returns
    -------
    bytes
        The PNG file's content: the same figure gives the same bytes.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> def draw():
    ...     fig = Figure(figsize=(2, 1))
    ...     fig.add_subplot().plot([0, 1], [1, 0])
    ...     return fig
    >>> png = figure_png(draw())
    >>> png[1:4] == b"PNG", png == figure_png(draw()), b"Software" in png
    (True, True, False)
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata=_NO_SOFTWARE)
    _close(fig)
    return buffer.getvalue()


def figure_data_uri(fig: Figure, *, dpi: int = FIGURE_DPI) -> str:
    """The figure as a ``data:image/png;base64,...`` URI for an HTML page; it is closed.

    Parameters
    ----------
    fig
        A matplotlib figure.
    dpi
        Resolution; the house policy is :data:`FIGURE_DPI`.

    Returns
    -------
    str
        A URI an ``<img src=...>`` embeds, so that the page is one self-contained file.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_data_uri(Figure(figsize=(1, 1)))[:22]
    'data:image/png;base64,'
    """
    return "data:image/png;base64," + base64.b64encode(figure_png(fig, dpi=dpi)).decode("ascii")


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = FIGURE_DPI) -> Path:
    """Write the figure to a file in the format its suffix names; the figure is closed.

    A ``.png`` file (or one without a suffix) has the bytes of :func:`figure_png`;
    ``.svg`` and ``.pdf`` are written by matplotlib, without their creation date.

    Parameters
    ----------
    fig
        A matplotlib figure.
    path
        The file to write.
    dpi
        Resolution; the house policy is :data:`FIGURE_DPI`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OSError
        When the file cannot be written (the caller reports it).
    ValueError
        When matplotlib cannot write the format the suffix names.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> save_figure(Figure(figsize=(1, 1)), folder / "f.png").read_bytes()[1:4]
    b'PNG'
    >>> save_figure(Figure(figsize=(1, 1)), folder / "f.svg").read_text()[:5]
    '<?xml'
    """
    target = Path(path)
    suffix = target.suffix.lower().lstrip(".")
    if suffix in ("", "png"):
        target.write_bytes(figure_png(fig, dpi=dpi))
        return target
    fig.savefig(target, dpi=dpi, metadata=_NO_DATE.get(suffix))
    _close(fig)
    return target
