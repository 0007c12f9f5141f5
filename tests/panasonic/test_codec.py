"""Codec properties: round trips, only typed errors on bad input, generic forms."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbx_protocols.core.errors import ProtocolError
from pbx_protocols.panasonic.codec import (
    Aare,
    Invoke,
    Reject,
    ReturnError,
    ReturnResult,
    decode_pdu,
    to_json,
)
from pbx_protocols.panasonic.operations import Opcode, operation_name
from tests.panasonic.strategies import pdus

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYSTEM_STATUS = bytes.fromhex("a10c020101020200d330030a0102")
EVENT = bytes.fromhex(
    "a13b0201110201153033550401110002a02bad296b0f300d800200eda107300580033130316307"
    "300580033130316207300580033130334e01030a0116"
)


@FAST
@given(pdus)
def test_every_pdu_survives_encode_decode_encode(pdu):
    encoded = pdu.encode()
    decoded = decode_pdu(encoded)
    assert type(decoded) is type(pdu)
    assert decoded.encode() == encoded
    assert to_json(decoded.as_json()) == to_json(pdu.as_json())


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_errors(data):
    with contextlib.suppress(ProtocolError):
        decode_pdu(data)


@FAST
@given(pdus, st.data())
def test_truncated_pdus_raise_protocol_errors(pdu, data):
    encoded = pdu.encode()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(ProtocolError):
        decode_pdu(encoded[:cut])


@FAST
@given(pdus, st.data())
def test_mutated_pdus_raise_only_protocol_errors(pdu, data):
    encoded = bytearray(pdu.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ProtocolError):
        decode_pdu(bytes(encoded))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30" + b"\x80" * 5000,  # indefinite lengths nested thousands deep
        b"\xa1\x80" * 3000,
        b"\xa1\x84\xff\xff\xff\xff\x02\x01\x01",  # declared length far beyond the data
        b"\xa1\x0c" + b"\x02\x01\x01" * 3000,  # thousands of siblings
        SYSTEM_STATUS + b"\x00",  # trailing garbage
    ],
)
def test_hostile_shapes_raise_protocol_errors(data):
    with pytest.raises(ProtocolError):
        decode_pdu(data)


def test_error_names_the_offset():
    with pytest.raises(ProtocolError) as info:
        decode_pdu(SYSTEM_STATUS[:9])
    assert info.value.offset is not None
    assert "at offset" in str(info.value)
    with pytest.raises(ProtocolError, match="unexpected byte") as info:
        decode_pdu(SYSTEM_STATUS + b"\x05\x00")
    assert info.value.offset == len(SYSTEM_STATUS)
    with pytest.raises(ProtocolError, match="unknown PDU tag 0x30 at offset 0"):
        decode_pdu(b"\x30\x00")


def test_unknown_operation_decodes_to_a_generic_form():
    pdu = Invoke(5, 999, raw_argument=b"\x30\x03\x02\x01\x07")
    decoded = decode_pdu(pdu.encode())
    assert isinstance(decoded, Invoke)
    assert (decoded.opcode, decoded.operation) == (999, "operation999")
    assert decoded.argument is None
    assert decoded.raw_argument == b"\x30\x03\x02\x01\x07"
    assert decoded.as_json()["raw_argument"] == "3003020107"


def test_untypeable_argument_is_kept_raw_instead_of_failing():
    odd = Invoke(5, Opcode.MONITOR_START, raw_argument=b"\x04\x01\x00")
    decoded = decode_pdu(odd.encode())
    assert isinstance(decoded, Invoke)
    assert decoded.argument is None
    assert decoded.raw_argument == b"\x04\x01\x00"
    result = decode_pdu(ReturnResult(3, 77, raw_result=b"\x05\x00").encode())
    assert isinstance(result, ReturnResult)
    assert (result.result, result.raw_result, result.operation) == (
        None,
        b"\x05\x00",
        "operation77",
    )


def test_unknown_event_family_is_named_by_tag():
    # physicalDeviceFeatureEvents [3] -> displayUpdated [2]: not typed, still named
    report = {
        "crossRefIdentifier": b"\x01",
        "eventSpecificInfo": ("physicalDeviceFeatureEvents", bytes.fromhex("a2 03 04 01 41")),
    }
    decoded = decode_pdu(Invoke(9, Opcode.CSTA_EVENT_REPORT, report).encode())
    assert isinstance(decoded, Invoke)
    family, (name, raw) = decoded.argument["eventSpecificInfo"]
    assert (family, name, raw) == ("physicalDeviceFeatureEvents", "displayUpdated", raw)
    assert decoded.as_json()["argument"]["eventSpecificInfo"] == {
        "physicalDeviceFeatureEvents": {"displayUpdated": "a203040141"}
    }


def test_errors_and_rejects_read_well():
    error = ReturnError(4, 1, ("stateIncompatibility", "noCallToAnswer"))
    assert decode_pdu(error.encode()).reason == "stateIncompatibility.noCallToAnswer"
    assert ReturnError(4, 1, ("unspecified", None)).reason == "unspecified"
    assert ReturnError(4, 9, raw_parameter=b"\x05\x00").reason == "error 9"
    reject = decode_pdu(Reject(4, "invoke", 1).encode())
    assert reject.reason == "invoke.unrecognizedOperation"
    assert decode_pdu(Reject(None, "general", 2).encode()).as_json() == {
        "pdu": "reject",
        "invoke_id": None,
        "problem": "general.badlyStructuredPDU",
    }
    assert Reject(1, "invoke", 99).reason == "invoke.99"


def test_acse_refusals():
    refused = decode_pdu(Aare(result=1, diagnostic=13).encode())
    assert isinstance(refused, Aare)
    assert not refused.accepted
    assert refused.authentication_failed
    assert (refused.result_name, refused.diagnostic_name) == (
        "rejected-permanent",
        "authentication-failure",
    )
    busy = Aare(result=2, diagnostic_source="acse-service-provider", diagnostic=1)
    assert not busy.authentication_failed
    assert busy.diagnostic_name == "no-reason-given"
    assert Aare(result=7, diagnostic=99).as_json()["result"] == "result7"


def test_operation_names():
    assert operation_name(211) == "systemStatus"
    assert operation_name(12345) == "operation12345"
    event = decode_pdu(EVENT)
    assert isinstance(event, Invoke)
    assert event.as_json()["operation"] == "cSTAEventReport"


async def test_specification_loads_off_the_event_loop():
    from pbx_protocols.panasonic import spec

    spec.specification.cache_clear()
    loaded = await spec.async_load_specification()
    assert loaded is spec.specification()  # later calls are answered from memory
    assert await spec.async_load_specification() is loaded
