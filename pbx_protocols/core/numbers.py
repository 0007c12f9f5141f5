"""Validation and normalisation of phone numbers and display texts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from .errors import InvalidInput

MAX_NUMBER_LENGTH: Final = 32
#: Character sets as people know them, for error messages.
_CHARSET_NAMES: Final = {"ascii": "ASCII", "latin-1": "ISO 8859-1"}
_DIAL_STRING = re.compile(r"\+?[0-9*#]+")
_SEPARATORS = re.compile(r"[\s\-./()]")


def validate_number(number: str, *, what: str = "number") -> str:
    """Return ``number`` without separators, or raise InvalidInput saying what is wrong.

    Accepted: digits, ``*`` and ``#``, optionally one leading ``+``; spaces, dashes, dots,
    slashes and parentheses are dropped (people paste "+49 (30) 1234-56").
    """
    cleaned = _SEPARATORS.sub("", number)
    if not cleaned:
        raise InvalidInput(f"the {what} is empty")
    if len(cleaned) > MAX_NUMBER_LENGTH:
        raise InvalidInput(f"the {what} is longer than {MAX_NUMBER_LENGTH} characters")
    if not _DIAL_STRING.fullmatch(cleaned):
        # Quoted as typed ("FLOWERS"), not sorted: people recognise what they wrote.
        bad = list(dict.fromkeys(c for c in number if not (c.isdigit() or c in "*#+")))
        bad = [c for c in bad if not _SEPARATORS.fullmatch(c)]
        if bad:
            raise InvalidInput(f"the {what} contains {''.join(bad)!r}; use digits, *, # and +")
        raise InvalidInput(f"the {what} may contain + only at the start")
    return cleaned


def validate_text(text: str, *, max_length: int, encoding: str = "ascii") -> str:
    """Return ``text`` if a station display can show it, or raise InvalidInput.

    ``encoding`` is the display's character set (ASCII for most; ISO 8859-1 on some).
    """
    if not text:
        raise InvalidInput("the text is empty")
    if len(text) > max_length:
        raise InvalidInput(f"the text is longer than {max_length} characters")
    try:
        text.encode(encoding)
    except UnicodeEncodeError as err:
        charset = _CHARSET_NAMES.get(encoding, encoding)
        raise InvalidInput(
            f"the text contains {text[err.start]!r}; the display shows {charset} characters only"
        ) from err
    if not text.isprintable():
        raise InvalidInput("the text may contain printable characters only")
    return text


def normalize_number(number: str | None, strip_prefixes: Iterable[str] = ()) -> str | None:
    """Remove the first matching prefix (longest first), e.g. a trunk access code."""
    if not number:
        return number
    for prefix in sorted(strip_prefixes, key=len, reverse=True):
        if prefix and number.startswith(prefix) and len(number) > len(prefix):
            return number[len(prefix) :]
    return number
