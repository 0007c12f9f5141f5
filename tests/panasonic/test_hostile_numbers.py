"""Numbers from the wire too large for Python's int-to-text limit render safely."""

from __future__ import annotations

import json

import pytest

from pbx_protocols.core.errors import CommandRejected
from pbx_protocols.panasonic.codec import Aare, Reject, ReturnError, decode_pdu
from pbx_protocols.panasonic.devices import number_of
from pbx_protocols.panasonic.stack import PanasonicStack

HUGE = 10**5000


@pytest.mark.parametrize(
    "pdu",
    [
        Reject(5, "invoke", HUGE),
        ReturnError(5, HUGE),
        Aare(result=HUGE, diagnostic=HUGE),
    ],
    ids=["reject", "return-error", "aare"],
)
def test_every_rendering_of_a_huge_code_is_safe(pdu):
    decoded = decode_pdu(pdu.encode())
    text = " ".join([repr(decoded), json.dumps(decoded.as_json())])
    for name in ("reason", "result_name", "diagnostic_name"):
        if hasattr(decoded, name):
            text += getattr(decoded, name)
    assert "integer" in text
    assert len(text) < 5000


def test_a_refusal_with_a_huge_code_is_a_typed_error():
    error = CommandRejected("makeCall", Reject(5, "invoke", HUGE).reason)
    assert "makeCall" in str(error)


def test_a_device_number_too_long_to_print():
    assert number_of({"deviceIdentifier": ("deviceNumber", HUGE)}).startswith("#<")


def test_decode_command_prints_huge_numbers(capsys):
    import argparse

    args = argparse.Namespace(hex=[Reject(5, "invoke", HUGE).encode().hex()], framing="none")
    (obj,) = PanasonicStack().decode(args)
    json.dumps(obj)
