"""Every Panasonic vector: decoded facts, byte-exact encoding, and the seed's examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.model import CallEventKind, Direction, LineState
from pbx_protocols.panasonic.codec import (
    Aare,
    Aarq,
    Invoke,
    ReturnResult,
    decode_pdu,
    encode_value,
)
from pbx_protocols.panasonic.events import EventMapper
from pbx_protocols.panasonic.framing import (
    TcpFramer,
    UsbReassembler,
    fragment,
    split_tcp_frames,
    usb_packets,
)
from pbx_protocols.panasonic.operations import Opcode

VECTORS_FILE = Path(__file__).parents[1] / "fixtures" / "vectors" / "panasonic-csta.json"
DOCUMENT = json.loads(VECTORS_FILE.read_text())
VECTORS = {vector["name"]: vector for vector in DOCUMENT["vectors"]}


def pdu_bytes(vector: dict[str, Any]) -> bytes:
    raw = bytes.fromhex(vector["hex"])
    if vector["framing"] == "tcp":
        (frame,) = split_tcp_frames(raw)
        return frame
    assert vector["framing"] == "none"
    return raw


def name_and_number(fact: str) -> tuple[str, int]:
    """Split "accepted (0)" into ("accepted", 0)."""
    name, number = fact.rsplit(" (", 1)
    return name, int(number.rstrip(")"))


def check_aarq(vector: dict[str, Any], pdu: Any) -> None:
    expect = vector["expect"]
    assert isinstance(pdu, Aarq)
    facts = pdu.as_json()
    assert facts["protocol_version"] == expect["protocol_version"]
    assert facts["application_context_name"] == expect["application_context_name"]
    assert facts["user_information_direct_reference"] == expect["user_information_direct_reference"]
    assert facts["csta_version_bitstring"] == expect["csta_version_bitstring"]
    assert facts["csta_version"] == ["versionFive"]
    # the client's own AARQ is exactly these bytes
    assert Aarq().encode() == bytes.fromhex(vector["hex"])


def check_aare(vector: dict[str, Any], pdu: Any) -> None:
    expect = vector["expect"]
    assert isinstance(pdu, Aare)
    assert (pdu.result_name, pdu.result) == name_and_number(expect["result"])
    source, diagnostic = name_and_number(expect["result_source_diagnostic"])
    assert (pdu.diagnostic_source, pdu.diagnostic) == (source, diagnostic)
    assert pdu.application_context_name == expect["application_context_name"]
    assert pdu.accepted
    # what the simulator answers is byte-identical to the real PBX
    assert Aare(result=0).encode() == bytes.fromhex(vector["hex"])


def check_system_status_invoke(vector: dict[str, Any], pdu: Any) -> None:
    expect = vector["expect"]
    assert isinstance(pdu, Invoke)
    assert (pdu.invoke_id, pdu.opcode) == (expect["invoke_id"], expect["opcode"])
    assert pdu.operation == "systemStatus"
    status, value = name_and_number(expect["system_status"])
    assert pdu.argument == {"systemStatus": status}
    assert encode_value("SystemStatusArg", pdu.argument).endswith(bytes((0x0A, 0x01, value)))
    expected = Invoke(expect["invoke_id"], Opcode.SYSTEM_STATUS, {"systemStatus": status})
    assert expected.encode() == pdu_bytes(vector)


def check_system_status_reply(vector: dict[str, Any], pdu: Any) -> None:
    expect = vector["expect"]
    assert isinstance(pdu, ReturnResult)
    assert (pdu.invoke_id, pdu.opcode, pdu.operation) == (
        expect["invoke_id"],
        expect["opcode"],
        "systemStatus",
    )
    assert pdu.result == ("noData", None)
    # the keepalive answer the session sends, byte for byte
    reply = ReturnResult(expect["invoke_id"], Opcode.SYSTEM_STATUS, ("noData", None))
    assert reply.encode() == pdu_bytes(vector)
    if vector["framing"] == "tcp":
        assert TcpFramer().frame(reply.encode()) == bytes.fromhex(vector["hex"])


def check_monitor_start(vector: dict[str, Any], pdu: Any) -> None:
    expect = vector["expect"]
    assert isinstance(pdu, Invoke)
    assert (pdu.invoke_id, pdu.opcode, pdu.operation) == (
        expect["invoke_id"],
        expect["opcode"],
        expect["operation"],
    )
    kind, plan_and_value = expect["monitor_object"].split(", ")
    plan, value = plan_and_value.split(" ", 1)
    value = value.strip("'")
    identifier = int(value) if plan == "deviceNumber" else value
    assert kind == "device"
    device = {"deviceIdentifier": (plan, identifier)}
    assert pdu.argument == {"monitorObject": ("deviceObject", device)}
    request = Invoke(expect["invoke_id"], Opcode.MONITOR_START, pdu.argument)
    assert TcpFramer().frame(request.encode()) == bytes.fromhex(vector["hex"])


CHECKS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "aarq_client": check_aarq,
    "aare_pbx_accepted": check_aare,
    "system_status_first_keepalive": check_system_status_invoke,
    "system_status_reply": check_system_status_reply,
    "monitor_start_dialing_number_101": check_monitor_start,
    "monitor_start_device_number_5": check_monitor_start,
    "system_status_reply_id5": check_system_status_reply,
    "system_status_invoke_id9": check_system_status_invoke,
}


def test_every_vector_has_a_check():
    assert set(CHECKS) == set(VECTORS)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector(name):
    vector = VECTORS[name]
    raw = pdu_bytes(vector)
    pdu = decode_pdu(raw)
    assert (
        pdu.kind
        == {
            "AARQ": "aarq",
            "AARE": "aare",
            "ROSE invoke": "invoke",
            "ROSE returnResult": "returnResult",
        }[vector["expect"]["pdu"].split(" (")[0]]
    )
    CHECKS[name](vector, pdu)
    assert pdu.encode() == raw  # decode -> encode is byte-exact both ways


@pytest.mark.parametrize("example", DOCUMENT["usb_fragmentation"]["examples"])
def test_seed_usb_fragmentation_examples(example):
    # "140-byte packet" counts from the fifth byte: it is the PDU behind the 2-byte header.
    total = example["payload_length"]
    described = [line.split(" + ") for line in example["usb_packets"]]
    if len(described) == 1:  # the small packet's 16 bytes include the next-layer header
        message = bytes([0x00, total - 2]) + bytes(range(total - 2))
        packets = fragment(message)
    else:
        packets = usb_packets(bytes(i % 251 for i in range(total)))
    assert len(packets) == len(described)
    for packet, (header, payload) in zip(packets, described, strict=True):
        header_bytes = bytes.fromhex(header)
        assert packet.startswith(header_bytes)
        assert len(packet) - len(header_bytes) == int(payload.split()[0])
    reassembler = UsbReassembler()
    results = [reassembler.feed_packet(packet) for packet in packets]
    assert results[:-1] == [None] * (len(packets) - 1)
    assert results[-1] is not None


def seed_originated_event() -> bytes:
    """The seed document's example: extension 101 calls 103 (invokeID 17, serviceID 21)."""
    dialing = {"deviceIdentifier": ("dialingNumber", "101")}
    report = {
        "crossRefIdentifier": bytes.fromhex("01110002"),
        "eventSpecificInfo": (
            "callControlEvents",
            (
                "originated",
                {
                    "originatedConnection": (
                        "both",
                        {"callID": bytes.fromhex("00ED"), "deviceID": ("staticID", dialing)},
                    ),
                    "callingDevice": ("deviceIdentifier", dialing),
                    "calledDevice": (
                        "deviceIdentifier",
                        {"deviceIdentifier": ("dialingNumber", "103")},
                    ),
                    "localConnectionInfo": "connected",
                    "cause": "newCall",
                },
            ),
        ),
    }
    return Invoke(17, Opcode.CSTA_EVENT_REPORT, report).encode()


def test_seed_example_originated_event_decodes_to_the_seeds_facts():
    pdu = decode_pdu(seed_originated_event())
    assert isinstance(pdu, Invoke)
    assert (pdu.invoke_id, pdu.opcode, pdu.operation) == (17, 21, "cSTAEventReport")
    facts = pdu.as_json()["argument"]
    assert facts["crossRefIdentifier"] == "01110002"
    originated = facts["eventSpecificInfo"]["callControlEvents"]["originated"]
    both = originated["originatedConnection"]["both"]
    assert both["callID"] == "00ed"
    assert both["deviceID"]["staticID"]["deviceIdentifier"]["dialingNumber"] == "101"
    calling = originated["callingDevice"]["deviceIdentifier"]["deviceIdentifier"]
    called = originated["calledDevice"]["deviceIdentifier"]["deviceIdentifier"]
    assert (calling, called) == ({"dialingNumber": "101"}, {"dialingNumber": "103"})
    assert originated["localConnectionInfo"] == "connected"
    assert originated["cause"] == "newCall"


def test_seed_example_maps_to_an_outgoing_call_of_101():
    tracker = CallTracker()
    tracker.set_link_up(True)
    mapper = EventMapper(tracker)
    mapper.add_monitor(bytes.fromhex("01110002"), "101")
    pdu = decode_pdu(seed_originated_event())
    (event,) = mapper.apply(pdu.argument)
    assert (event.extension, event.kind, event.line_state) == (
        "101",
        CallEventKind.ORIGINATED,
        LineState.DIALING,
    )
    assert (event.call_id, event.called, event.peer, event.direction) == (
        "00ed",
        "103",
        "103",
        Direction.OUTGOING,
    )
    assert event.vendor == {"csta_event": "originated", "cause": "newCall"}


def test_lintcmon_device_list_request_is_what_the_client_sends():
    """LinTcMon's real escape bytes (invoke id 0x0602, category 5)."""
    real = bytes.fromhex(
        "a116020206020201333000da40ba009a407a105a0030a0105".replace("3000d", "300d")
    )
    pdu = decode_pdu(real)
    assert isinstance(pdu, Invoke)
    from pbx_protocols.panasonic.kme import device_list_request, requested_category

    assert requested_category(pdu.argument) == "extension"
    assert Invoke(0x0602, Opcode.ESCAPE, device_list_request()).encode() == real
