"""Code 128 bar codes for ISBT 128 data structures, as inline SVG.

Code 128 is specified in ISO/IEC 15417 (*Information technology - Automatic
identification and data capture techniques - Code 128 bar code symbology
specification*). A symbol is a start character (103, 104 or 105 for code set
A, B or C), the data symbols (code set switches included), a modulo-103 symbol
check character and the stop character. The check character is (ISO/IEC 15417,
section 4.7.2)::

    check = (start + sum(position * value)) mod 103

where ``position`` counts the data symbols from 1.

ISBT 128 carries its data structures in Code 128 (ICCBBA, *ISBT 128 Standard
Technical Specification*, ST-001, chapter 7 on bar codes). The donation
identification number is data structure 001, ``=αppppyynnnnnnff``: the data
identifier ``=``, the 13-character DIN and the two flag characters; the
keyboard entry check character is printed beside the eye-readable DIN but is
not encoded (see :attr:`vein2vein.identity.DIN.barcode_data`).

The bars come from python-barcode, whose encoder chooses the code sets.
:func:`code128_values` reports the symbol values of that same encoding, with
the check character computed here from the ISO/IEC 15417 formula, so that a
test can check both against the published tables.
"""

from __future__ import annotations

import xml.dom.minidom
from typing import Final

from barcode import Code128  # type: ignore[import-untyped]
from barcode.errors import BarcodeError  # type: ignore[import-untyped]
from barcode.writer import SVGWriter  # type: ignore[import-untyped]

from vein2vein.errors import InvalidInputError

__all__ = ["code128_svg", "code128_values"]

_FIELD: Final = "barcode data"
_FIRST_PRINTABLE: Final = 0x20
_LAST_PRINTABLE: Final = 0x7E
#: ISO/IEC 15417 section 4.7.2: the symbol check character is modulo 103.
_CHECK_MODULUS: Final = 103

#: Nominal module (X) width in mm, bar height in mm; quiet zones are 10 X (ISO/IEC 15417 4.3.3).
_MODULE_MM: Final = 0.25
_HEIGHT_MM: Final = 12.0
_QUIET_ZONE_MM: Final = 10 * _MODULE_MM


def _check_data(data: str) -> str:
    if not data:
        msg = "bar code data is empty"
        raise InvalidInputError(msg, field=_FIELD)
    bad = sorted({c for c in data if not _FIRST_PRINTABLE <= ord(c) <= _LAST_PRINTABLE})
    if bad:
        msg = (
            f"bar code data {data!r} holds {bad!r}; only printable ASCII (space to ~) is "
            "encoded, which covers every ISBT 128 data structure"
        )
        raise InvalidInputError(msg, field=_FIELD)
    return data


def _symbol(data: str) -> Code128:
    # python-barcode's encoder keeps its code set between calls: one fresh object per use.
    try:
        return Code128(data, writer=SVGWriter())
    except BarcodeError as err:  # pragma: no cover - printable ASCII is always accepted
        msg = f"python-barcode cannot encode {data!r}: {err}"
        raise InvalidInputError(msg, field=_FIELD) from err


def code128_check(values: list[int]) -> int:
    """Return the Code 128 symbol check character for a start character and data symbols.

    Parameters
    ----------
    values
        The start character value followed by the data symbol values (code set
        switches included), without check or stop character.

    Returns
    -------
    int
        ``(values[0] + sum(i * values[i])) mod 103`` (ISO/IEC 15417, section 4.7.2).

    Examples
    --------
    The start B character, then ``=`` (29) and ``A`` (33):

    >>> code128_check([104, 29, 33])
    96
    """
    return sum(max(position, 1) * value for position, value in enumerate(values)) % (_CHECK_MODULUS)


def code128_values(data: str) -> list[int]:
    """Return the Code 128 symbol values that encode ``data``, start and check included.

    The values are those of python-barcode's encoding of ``data`` (the one
    :func:`code128_svg` draws): the start character, the data symbols with any
    code set switches, then the modulo-103 symbol check character computed
    from ISO/IEC 15417 section 4.7.2. The stop character (106) is not listed.

    Parameters
    ----------
    data
        Printable ASCII, e.g. ISBT 128 data structure 001 (ST-001):
        ``"=" + din13 + flags``.

    Returns
    -------
    list[int]
        Symbol values 0-105.

    Raises
    ------
    InvalidInputError
        If ``data`` is empty or holds characters outside printable ASCII.

    Examples
    --------
    The DIN ``A9999 26 000001`` with flags ``00``: start B (104), ``=`` (29),
    ``A`` (33), code C (99), then the digit pairs 99 99 26 00 00 01 00 and the
    check character 7:

    >>> code128_values("=A99992600000100")
    [104, 29, 33, 99, 99, 99, 26, 0, 0, 1, 0, 7]
    """
    symbols = [int(v) for v in _symbol(_check_data(data)).encoded]
    return [*symbols, code128_check(symbols)]


def code128_svg(data: str) -> str:
    """Draw ``data`` as a Code 128 bar code, an ``<svg>`` element to inline in HTML.

    The bars are python-barcode's Code 128 drawn by its SVG writer, without
    text under the bars (the caller prints the eye-readable form, which for a
    DIN differs from the encoded data), with 0.25 mm modules, 12 mm bars and
    10-module quiet zones (ISO/IEC 15417 section 4.3.3). The XML declaration,
    doctype and generator comment are removed; the element carries
    ``role="img"`` and an ``aria-label`` with the encoded data.

    Parameters
    ----------
    data
        Printable ASCII, e.g. ISBT 128 data structure 001 (ST-001):
        ``"=" + din13 + flags``.

    Returns
    -------
    str
        One ``<svg xmlns="http://www.w3.org/2000/svg">`` element.

    Raises
    ------
    InvalidInputError
        If ``data`` is empty or holds characters outside printable ASCII.

    Examples
    --------
    >>> svg = code128_svg("=A99992600000100")
    >>> svg.startswith("<svg") and svg.endswith("</svg>")
    True
    """
    symbol = _symbol(_check_data(data))
    raw = symbol.render(
        {
            "module_width": _MODULE_MM,
            "module_height": _HEIGHT_MM,
            "quiet_zone": _QUIET_ZONE_MM,
            "write_text": False,
            "margin_top": 0.0,
            "margin_bottom": 0.0,
        }
    )
    document = xml.dom.minidom.parseString(raw)
    root = document.documentElement
    if root is None:  # pragma: no cover - python-barcode always writes an <svg> root
        msg = "python-barcode returned an SVG document without a root element"
        raise RuntimeError(msg)
    for node in list(root.childNodes):
        if node.nodeType in (node.COMMENT_NODE, node.TEXT_NODE):
            root.removeChild(node)
    for group in root.getElementsByTagName("g"):
        group.removeAttribute("id")  # one fixed id would clash with a second bar code
        for node in list(group.childNodes):
            if node.nodeType == node.TEXT_NODE:
                group.removeChild(node)
    for rect in root.getElementsByTagName("rect"):
        # ``style="fill:black;"`` becomes the presentation attribute ``fill="black"``, which
        # HTML style sheets (and WeasyPrint's CSS parser) leave to the SVG renderer.
        for declaration in rect.getAttribute("style").split(";"):
            prop, _, value = declaration.partition(":")
            if prop.strip() == "fill" and value.strip():
                rect.setAttribute("fill", value.strip())
        rect.removeAttribute("style")
    root.setAttribute("role", "img")
    root.setAttribute("aria-label", f"Code 128 bar code: {data}")
    svg: str = root.toxml()
    document.unlink()
    return svg
