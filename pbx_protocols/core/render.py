"""Rendering values that came from the wire, whatever their size.

A peer can send an INTEGER of any length; Python refuses to turn one of more than 4,300
digits into text (``ValueError``), which would escape from ``repr``, f-strings, logging and
``json.dumps``. Everything that shows a wire value goes through these helpers instead.
"""

from __future__ import annotations

import dataclasses
import reprlib
from typing import Any, Final

#: Integers up to this magnitude print in decimal; larger ones as a short description.
_DECIMAL_LIMIT: Final = 10**18
#: Hex digits quoted from a large integer.
_QUOTED_HEX_DIGITS: Final = 16


def int_text(value: int) -> str:
    """Decimal for ordinary numbers; a bounded description for absurdly large ones."""
    if -_DECIMAL_LIMIT < value < _DECIMAL_LIMIT:
        return str(value)
    digits = f"{abs(value):x}"  # hexadecimal has no conversion limit
    sign = "-" if value < 0 else ""
    return f"<{value.bit_length()}-bit integer {sign}0x{digits[:_QUOTED_HEX_DIGITS]}...>"


def json_value(value: Any) -> Any:  # noqa: ANN401  # JSON is as dynamic as its input
    """``value`` itself, or its text if it is an integer JSON could not print."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -_DECIMAL_LIMIT < value < _DECIMAL_LIMIT else int_text(value)
    return value


class _WireRepr(reprlib.Repr):
    """reprlib with room for real PDUs; it already renders huge integers safely."""

    def __init__(self) -> None:
        super().__init__(
            maxlevel=8, maxdict=32, maxlist=32, maxtuple=32, maxstring=200, maxother=200
        )
        self.maxlong = 60

    def repr_int(self, x: int, level: int) -> str:
        return int_text(x)


_REPR: Final = _WireRepr()


def safe_repr(value: object) -> str:
    """A bounded repr of any value decoded from the wire."""
    return _REPR.repr(value)


class SafeRepr:
    """Mixin for dataclasses holding wire values: ``@dataclass(repr=False)`` plus this."""

    __slots__ = ()

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{item.name}={safe_repr(getattr(self, item.name))}"
            for item in dataclasses.fields(self)  # type: ignore[arg-type]
            if item.repr
        )
        return f"{type(self).__name__}({fields})"
