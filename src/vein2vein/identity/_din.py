"""ISBT 128 Donation Identification Numbers (DIN).

A DIN identifies one collection event (for CAR-T: one apheresis) worldwide for a
hundred years. It is defined by ICCBBA in the *ISBT 128 Standard Technical
Specification* (ST-001), Data Structure 001, section 2.4.1:

=============  ======  ==================================================
element        length  content
=============  ======  ==================================================
``=``          1       data identifier (bar code only, not part of the DIN)
``αpppp``      5       Facility Identification Number (FIN)
``yy``         2       nominal year the DIN was assigned (last two digits)
``nnnnnn``     6       sequence number within the year for that FIN
``ff``         2       flag characters (not part of the 13-character DIN)
=============  ======  ==================================================

The 13 characters ``αppppyynnnnnn`` are the DIN proper. The keyboard entry check
character **K** (ST-001 section 7.5 and Appendix A) is the ISO/IEC 7064
MOD 37-2 check character computed over those 13 characters only; neither the
``=`` nor the flags take part. **K** is printed beside the eye-readable DIN but
is never encoded in the bar code.

See ``docs/validation/din.md`` for the published reference values the tests
check against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from vein2vein.errors import IdentityError

__all__ = ["DIN", "check_character", "check_facility", "new_din", "parse_din"]

_FIELD: Final = "din"

#: ISO/IEC 7064 MOD 37-2 character set; a character's index is its value (ST-001 Table 35).
_ISO7064_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_ISO7064_VALUE: Final = {char: value for value, char in enumerate(_ISO7064_ALPHABET)}

_DIGITS: Final = frozenset("0123456789")
#: ST-001 2.4.1: first FIN character (also the second data identifier character).
_FIN_FIRST: Final = frozenset("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789")
#: ST-001 2.4.1: FIN characters 2 and 3 ("current usage is numeric").
_FIN_MIDDLE: Final = frozenset("ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789")
#: ST-001 2.4.1: flag characters are {0-9} and {A-H, J-N, P, R-Y}.
_FLAG_CHARS: Final = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXY")

_DIN_LENGTH: Final = 13
_TYPE3_OFFSET: Final = 60  # ST-001 Table 3 and Appendix A.2: flags 60-96 = 60 + checksum
_TYPE3_FIRST: Final = 60
_TYPE3_LAST: Final = 96
_SEQUENCE_MAX: Final = 999_999
_WHITESPACE: Final = re.compile(r"\s+")


def _fail(reason: str) -> IdentityError:
    return IdentityError(reason, field=_FIELD)


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        msg = f"{what} must be text, got {type(value).__name__} {value!r}"
        raise _fail(msg)
    return value


def check_facility(facility: str, *, field: str = _FIELD) -> str:
    """Validate an ISBT 128 facility identification number (ST-001 §2.4.1); return it.

    Examples
    --------
    >>> check_facility("W0000")
    'W0000'
    """
    try:
        _validate_facility(facility)
    except IdentityError as exc:
        raise IdentityError(exc.reason, field=field) from None
    return facility


def _validate_facility(facility: str) -> None:
    if len(facility) != 5:
        msg = (
            f"facility identification number {facility!r} has {len(facility)} characters; "
            "an ISBT 128 FIN has exactly 5"
        )
        raise _fail(msg)
    if facility[0] not in _FIN_FIRST:
        msg = (
            f"facility identification number {facility!r} starts with {facility[0]!r}; "
            "the first character must be an upper-case letter A-N or P-Z, or a digit 1-9"
        )
        raise _fail(msg)
    if facility[1] not in _FIN_MIDDLE or facility[2] not in _FIN_MIDDLE:
        msg = (
            f"facility identification number {facility!r} is not valid: characters 2 and 3 "
            "must be digits or upper-case letters A-N, P-Z"
        )
        raise _fail(msg)
    if facility[3] not in _DIGITS or facility[4] not in _DIGITS:
        msg = (
            f"facility identification number {facility!r} is not valid: characters 4 and 5 "
            "must be digits 0-9"
        )
        raise _fail(msg)


def _validate_year(year: str) -> None:
    if len(year) != 2 or not set(year) <= _DIGITS:
        msg = f"year {year!r} is not valid: it must be exactly two digits 0-9, e.g. '26'"
        raise _fail(msg)


def _validate_sequence(sequence: str) -> None:
    if len(sequence) != 6 or not set(sequence) <= _DIGITS:
        msg = (
            f"sequence number {sequence!r} is not valid: it must be exactly six digits 0-9, "
            "e.g. '000123'"
        )
        raise _fail(msg)


def _validate_din13(din13: str) -> None:
    if len(din13) != _DIN_LENGTH:
        msg = (
            f"DIN {din13!r} has {len(din13)} characters; the DIN without flags and check "
            "character has exactly 13 (facility 5, year 2, sequence 6)"
        )
        raise _fail(msg)
    if not din13.isascii() or din13 != din13.upper():
        msg = (
            f"DIN {din13!r} contains characters that are not upper-case ASCII; "
            "the check character is defined only for 0-9 and A-Z (use parse_din to normalise)"
        )
        raise _fail(msg)
    _validate_facility(din13[:5])
    _validate_year(din13[5:7])
    _validate_sequence(din13[7:])


def _mod37_2(text: str) -> int:
    """Return the ISO/IEC 7064 MOD 37-2 check value (0-36) of already validated text.

    This is the "pure system recursive method" of ISO/IEC 7064 section 7.1, as
    reproduced in ST-001 Appendix A.3: ``s = ((s + value) * 2) mod 37`` over the
    characters left to right, then ``(38 - s) mod 37``.
    """
    total = 0
    for char in text:
        total = ((total + _ISO7064_VALUE[char]) * 2) % 37
    return (38 - total) % 37


def check_character(din13: str) -> str:
    """Compute the ISBT 128 keyboard entry check character K of a DIN.

    Parameters
    ----------
    din13
        The 13-character DIN: facility identification number (5), year (2) and
        sequence number (6), upper case, without the ``=`` data identifier,
        flag characters or spaces.

    Returns
    -------
    str
        One character of ``0-9``, ``A-Z`` or ``*``: the ISO/IEC 7064 MOD 37-2
        check character (values 0-9 map to ``0``-``9``, 10-35 to ``A``-``Z``,
        36 to ``*``).

    Raises
    ------
    IdentityError
        If *din13* is not 13 characters of a well-formed DIN.

    Examples
    --------
    The worked example of ST-001 Appendix A.1:

    >>> check_character("G123417654321")
    'A'
    """
    din13 = _require_str(din13, "DIN")
    _validate_din13(din13)
    return _ISO7064_ALPHABET[_mod37_2(din13)]


def _validate_flags(flags: str, din13: str) -> None:
    if len(flags) != 2 or not set(flags) <= _FLAG_CHARS:
        msg = (
            f"flag characters {flags!r} are not valid: they must be two characters from "
            "0-9 and A-H, J-N, P, R-Y (use '00' when flags are not used)"
        )
        raise _fail(msg)
    if set(flags) <= _DIGITS and _TYPE3_FIRST <= int(flags) <= _TYPE3_LAST:
        expected = f"{_mod37_2(din13) + _TYPE3_OFFSET:02d}"
        if flags != expected:
            msg = (
                f"flag characters {flags!r} are a Type 3 check value (60-96, i.e. 60 plus "
                f"the MOD 37-2 checksum) but do not match DIN {din13}, whose Type 3 flags "
                f"are {expected!r}"
            )
            raise _fail(msg)


@dataclass(frozen=True, slots=True)
class DIN:
    """An ISBT 128 Donation Identification Number with its flag characters.

    Instances are validated on construction; use :func:`parse_din` to read a
    DIN from scanned or typed text and :func:`new_din` to assign a new one.

    Parameters
    ----------
    facility
        Facility Identification Number (FIN), 5 characters assigned by ICCBBA:
        an upper-case letter ``A-N``/``P-Z`` or a digit ``1-9``, then two
        characters that are digits or letters ``A-N``/``P-Z`` (currently always
        digits), then two digits (ST-001 section 2.4.1).
    year
        Last two digits of the nominal year in which the DIN was assigned.
    sequence
        Six-digit sequence number within the year for the facility.
    flags
        Two flag characters (ST-001 Table 3). ``"00"`` means "flag not used;
        null value". ``01``-``19`` are ICCBBA-defined process-control flags
        (e.g. ``01`` container 1 of a set), ``20``-``59`` are locally defined,
        and ``60``-``96`` are Type 3 flags carrying 60 plus the MOD 37-2
        checksum of the DIN; Type 3 flags are checked against the DIN here.
        Flags are not part of the 13-character DIN and do not enter the check
        character.

    Raises
    ------
    IdentityError
        If any field does not meet the ISBT 128 format.

    Examples
    --------
    >>> din = DIN("W0000", "09", "123456", "02")
    >>> str(din)
    'W000009123456'
    >>> din.check
    'G'
    >>> din.eye_readable
    'W0000 09 123456 02 G'
    >>> din.barcode_data
    '=W00000912345602'
    """

    facility: str
    year: str
    sequence: str
    flags: str = "00"

    def __post_init__(self) -> None:
        facility = _require_str(self.facility, "facility identification number")
        year = _require_str(self.year, "year")
        sequence = _require_str(self.sequence, "sequence number")
        flags = _require_str(self.flags, "flag characters")
        _validate_facility(facility)
        _validate_year(year)
        _validate_sequence(sequence)
        _validate_flags(flags, facility + year + sequence)

    @property
    def din13(self) -> str:
        """The 13-character DIN: facility, year and sequence without separators."""
        return self.facility + self.year + self.sequence

    @property
    def check_value(self) -> int:
        """The ISO/IEC 7064 MOD 37-2 checksum (0-36); Type 3 flags are this plus 60."""
        return _mod37_2(self.din13)

    @property
    def check(self) -> str:
        """The keyboard entry check character K (``0-9``, ``A-Z`` or ``*``)."""
        return _ISO7064_ALPHABET[self.check_value]

    @property
    def has_type3_flags(self) -> bool:
        """Whether the flags are a Type 3 check value (60-96), which is never printed."""
        return set(self.flags) <= _DIGITS and _TYPE3_FIRST <= int(self.flags) <= _TYPE3_LAST

    @property
    def eye_readable(self) -> str:
        """The DIN as printed under its bar code, e.g. ``'W0000 09 123456 02 G'``.

        Groups, separated by single spaces: facility, year, sequence, flags,
        check character. This follows the example in ST-001 section 7.4.1
        (``W0000 09 123456 02 G``). On a label the flags are printed rotated
        90 degrees clockwise and the check character inside a box (ST-001
        7.4.1 and 7.5.1.1); plain text cannot show either, so the position of
        the groups carries that meaning. The flags group is left out when the
        flags are Type 3 (60-96), because ST-001 7.4.1 says Type 3 flags shall
        not be printed; ``"00"`` is printed (the standard permits omitting it).
        """
        groups = [self.facility, self.year, self.sequence]
        if not self.has_type3_flags:
            groups.append(self.flags)
        groups.append(self.check)
        return " ".join(groups)

    @property
    def barcode_data(self) -> str:
        """The data content of the Code 128 DIN bar code: ``'=' + din13 + flags``.

        This is ST-001 Data Structure 001, ``=αppppyynnnnnnff``; the check
        character K is not encoded in the bar code.
        """
        return "=" + self.din13 + self.flags

    def __str__(self) -> str:
        return self.din13


def parse_din(text: str) -> DIN:
    """Read a DIN from scanned or typed text.

    Accepted, after upper-casing ASCII letters and removing whitespace and at
    most one leading ``=`` (the bar code data identifier):

    - 13 characters: the DIN alone (flags ``"00"``);
    - 14 characters: DIN and check character;
    - 15 characters: DIN and flags, as in the bar code data;
    - 16 characters: DIN, flags and check character.

    So the eye-readable form (``"W0000 09 123456 02 G"``) and the bar code data
    (``"=W00000912345602"``) both parse. A check character, when present, must
    match the one computed from the DIN.

    Parameters
    ----------
    text
        The text to read.

    Returns
    -------
    DIN
        The validated DIN. When the text carries no flags (for example an
        eye-readable DIN whose Type 3 flags were, correctly, not printed) the
        flags are ``"00"``.

    Raises
    ------
    IdentityError
        If the text is not a well-formed DIN or its check character is wrong.

    Examples
    --------
    >>> parse_din("=G12341765432170 A")
    DIN(facility='G1234', year='17', sequence='654321', flags='70')
    >>> parse_din("w0000 09 123456 02 g").eye_readable
    'W0000 09 123456 02 G'
    """
    original = _require_str(text, "DIN")
    if not original.isascii():
        msg = f"DIN {original!r} contains non-ASCII characters; a DIN uses only 0-9 and A-Z"
        raise _fail(msg)
    compact = _WHITESPACE.sub("", original).upper()
    compact = compact.removeprefix("=")
    if not compact:
        msg = f"DIN {original!r} is empty"
        raise _fail(msg)

    given_check: str | None = None
    flags = "00"
    match len(compact):
        case 13:
            din13 = compact
        case 14:
            din13, given_check = compact[:13], compact[13]
        case 15:
            din13, flags = compact[:13], compact[13:]
        case 16:
            din13, flags, given_check = compact[:13], compact[13:15], compact[15]
        case length:
            msg = (
                f"DIN {original!r} has {length} characters after removing spaces and the '=' "
                "data identifier; expected 13 (DIN), 14 (DIN and check character), "
                "15 (DIN and flags) or 16 (DIN, flags and check character)"
            )
            raise _fail(msg)

    _validate_din13(din13)
    din = DIN(din13[:5], din13[5:7], din13[7:], flags)
    if given_check is not None and given_check != din.check:
        msg = (
            f"check character {given_check!r} does not match the computed {din.check!r} "
            f"for DIN {din13} (read from {original!r})"
        )
        raise _fail(msg)
    return din


def _year_text(year: int | str) -> str:
    if isinstance(year, bool) or not isinstance(year, int | str):
        msg = f"year must be an integer or text, got {type(year).__name__} {year!r}"
        raise _fail(msg)
    if isinstance(year, str):
        if len(year) in {2, 4} and set(year) <= _DIGITS:
            return year[-2:]
        msg = f"year {year!r} is not valid: give two or four digits, e.g. '26' or '2026'"
        raise _fail(msg)
    if 0 <= year <= 99:
        return f"{year:02d}"
    if 1000 <= year <= 9999:
        return f"{year % 100:02d}"
    msg = f"year {year} is not valid: give the calendar year (e.g. 2026) or its last two digits"
    raise _fail(msg)


def _sequence_number(sequence: int | str) -> int:
    if isinstance(sequence, bool) or not isinstance(sequence, int | str):
        msg = f"sequence must be an integer or text, got {type(sequence).__name__} {sequence!r}"
        raise _fail(msg)
    if isinstance(sequence, str):
        if not sequence or len(sequence) > 6 or not set(sequence) <= _DIGITS:
            msg = f"sequence {sequence!r} is not valid: give one to six digits 0-9"
            raise _fail(msg)
        return int(sequence)
    return sequence


def new_din(
    facility: str,
    year: int | str,
    sequence: int | str,
    *,
    flags: str = "00",
) -> DIN:
    """Build a DIN from its parts.

    Parameters
    ----------
    facility
        The facility's ICCBBA Facility Identification Number, e.g. ``"W0000"``.
        Lower-case letters are upper-cased.
    year
        The nominal year of assignment: ``2026``, ``26``, ``"2026"`` or ``"26"``.
    sequence
        The sequence number within the year, 1 to 999999; zero-padded to six
        digits.
    flags
        Flag characters, ``"00"`` (not used) by default.

    Returns
    -------
    DIN
        The validated DIN.

    Raises
    ------
    IdentityError
        If any part is out of range or malformed.

    Examples
    --------
    >>> din = new_din("g1234", 2017, 654321)
    >>> din.din13, din.check
    ('G123417654321', 'A')
    >>> new_din("W0000", "26", 42).eye_readable
    'W0000 26 000042 00 Y'
    """
    facility = _require_str(facility, "facility identification number")
    if not facility.isascii():
        msg = f"facility identification number {facility!r} contains non-ASCII characters"
        raise _fail(msg)
    number = _sequence_number(sequence)
    if not 1 <= number <= _SEQUENCE_MAX:
        msg = f"sequence {sequence!r} is out of range: it must be between 1 and 999999"
        raise _fail(msg)
    return DIN(facility.upper(), _year_text(year), f"{number:06d}", flags)
