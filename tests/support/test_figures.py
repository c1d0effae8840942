"""The one figure helper: one resolution, reproducible bytes, the figure closed."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from vein2vein.support import FIGURE_DPI, figure_data_uri, figure_png, save_figure


def _object_figure() -> Figure:
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1])
    return fig


def _size(png: bytes) -> tuple[int, int]:
    # The IHDR chunk follows the 8-byte signature and its 8-byte header.
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_png_has_the_house_resolution_and_no_software_chunk() -> None:
    png = figure_png(_object_figure())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert _size(png) == (2 * FIGURE_DPI, 1 * FIGURE_DPI)
    assert b"Software" not in png
    assert b"matplotlib" not in png


def test_the_same_figure_gives_the_same_bytes() -> None:
    assert figure_png(_object_figure()) == figure_png(_object_figure())


def test_dpi_is_a_parameter() -> None:
    assert _size(figure_png(_object_figure(), dpi=50)) == (100, 50)


def test_data_uri_embeds_the_png() -> None:
    uri = figure_data_uri(_object_figure())
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]) == figure_png(_object_figure())


def test_save_figure_writes_the_same_bytes_and_closes_a_pyplot_figure(tmp_path: Path) -> None:
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1, 2], [2, 0, 1])
    number = fig.number
    path = save_figure(fig, tmp_path / "plot.png")
    assert path == tmp_path / "plot.png"
    assert path.read_bytes() == figure_png(_object_figure())
    assert not plt.fignum_exists(number)


def test_save_figure_writes_the_format_of_the_suffix_without_a_date(tmp_path: Path) -> None:
    svg = save_figure(_object_figure(), tmp_path / "a.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<dc:date>" not in svg
    pdf = save_figure(_object_figure(), tmp_path / "c.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/CreationDate" not in pdf
