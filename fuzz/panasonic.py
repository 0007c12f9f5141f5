"""Fuzz targets of the Panasonic stack: every decoder and what reads its output.

Each target takes one input and either accepts it or raises a PbxError; anything else is a
finding. The seeds are the project's byte vectors plus PDUs of every kind the simulator's
call model produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.panasonic_decode import event_reports
from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.errors import PbxError
from pbx_protocols.core.memory import memory_link_pair
from pbx_protocols.panasonic.client import monitor_cross_ref, snapshot_result_calls
from pbx_protocols.panasonic.codec import (
    Aarq,
    Credentials,
    Invoke,
    ReturnResult,
    decode_pdu,
)
from pbx_protocols.panasonic.events import EventMapper
from pbx_protocols.panasonic.framing import (
    UsbReassembler,
    split_tcp_frames,
    split_usb_stream,
    unwrap_next_layer,
    usb_packets,
)
from pbx_protocols.panasonic.kme import (
    KmeDevice,
    LinkedReply,
    linked_reply_argument,
    parse_linked_reply,
    pos_ack_result,
)
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.records import call_records, condition_extensions
from pbx_protocols.panasonic.session import (
    CstaSession,
    checked_result,
    device_list_cross_ref,
    parse_result,
)
from pbx_protocols.panasonic.simulator.pbx import SimulatedPbx
from pbx_protocols.panasonic.spec import specification
from pbx_protocols.panasonic.values import asn1tools_only
from tests.common import identical

from .inputs import tlv

VECTORS = Path(__file__).parents[1] / "tests/fixtures/vectors/panasonic-csta.json"
_MONITORS = {bytes.fromhex(f"0111{index:04x}"): str(101 + index) for index in range(20)}


def seeds() -> list[bytes]:
    """Real and simulated PDUs of every kind the client meets."""
    corpus = []
    for vector in json.loads(VECTORS.read_text())["vectors"]:
        data = bytes.fromhex(vector["hex"])
        corpus.append(data[2:] if vector["framing"] == "tcp" else data)
    corpus += event_reports()
    pbx = SimulatedPbx([str(n) for n in range(101, 105)])
    pbx.make_call("101", "102")
    snapshot = {"crossRefIDorSnapshotData": ("snapshotData", pbx.snapshot("101"))}
    corpus += [
        ReturnResult(3, Opcode.MONITOR_START, {"crossRefIdentifier": b"\x01\x11\x00\x01"}).encode(),
        ReturnResult(4, Opcode.SNAPSHOT_DEVICE, snapshot).encode(),
        ReturnResult(5, Opcode.ESCAPE, pos_ack_result(b"\x00\x07")).encode(),
        ReturnResult(6, Opcode.START_CDR_TRANSMISSION, {"cdrCrossRefID": b"\x01"}).encode(),
        Invoke(7, Opcode.ESCAPE, linked_reply_argument(_segment())).encode(),
        Invoke(8, Opcode.CDR_REPORT, _cdr_report()).encode(),
        Aarq(credentials=Credentials("cti", "secret")).encode(),
    ]
    return corpus


def _segment() -> LinkedReply:
    devices = (KmeDevice("101", 0x01110000, True), KmeDevice("102", None, False))
    return LinkedReply(b"\x00\x07", 1, True, devices)


def _cdr_report() -> dict[str, Any]:
    when = datetime(2026, 12, 2, 10, 30)  # a PBX's local time
    item = {
        "recordCreationTime": when,
        "callingDevice": ("deviceIdentifier", {"deviceIdentifier": ("dialingNumber", "0301")}),
        "calledDevice": ("deviceIdentifier", {"deviceIdentifier": ("dialingNumber", "102")}),
        "associatedCallingDevice": (
            "deviceIdentifier",
            {"deviceIdentifier": ("dialingNumber", "CO1")},
        ),
        "connectionEnd": when,
        "connectionDuration": 125,
    }
    return {
        "cdrCrossRefID": b"\x01",
        "numberOfRecordsSent": 1,
        "cdrInfo": [item],
        "extensions": condition_extensions("transferred"),
    }


def wraps() -> list[Callable[[bytes], bytes]]:
    """Places where adversarial content goes: the argument of an event, a result, an AARQ."""
    invoke_id = tlv(0x02, b"\x05")

    def event(content: bytes) -> bytes:
        info = tlv(0xA0, tlv(0xA4, content))
        return tlv(
            0xA1, invoke_id + tlv(0x02, b"\x15") + tlv(0x30, tlv(0x55, b"\x01\x11\x00\x00") + info)
        )

    def result(content: bytes) -> bytes:
        return tlv(0xA2, invoke_id + tlv(0x30, tlv(0x02, b"\x47") + content))

    def escape(content: bytes) -> bytes:
        return tlv(0xA1, invoke_id + tlv(0x02, b"\x33") + tlv(0x30, tlv(0xA4, content)))

    def aarq(content: bytes) -> bytes:
        return tlv(0x60, tlv(0xA1, tlv(0x06, b"\x2b\x0c\x00\x81\x5a")) + content)

    def bare(content: bytes) -> bytes:
        return content

    return [event, result, escape, aarq, bare]


# -- targets: each raises only PbxError ----------------------------------------------------


def codec(data: bytes) -> None:
    """Decode a PDU and render it every way the library renders PDUs."""
    pdu = decode_pdu(data)
    repr(pdu)
    json.dumps(pdu.as_json())
    reason = getattr(pdu, "reason", None)
    if reason is not None:
        str(reason)


def tcp_framing(data: bytes) -> None:
    """Split a TCP stream into frames."""
    for frame in split_tcp_frames(data):
        len(frame)


def usb_framing(data: bytes) -> None:
    """Cut USB packets apart and reassemble their messages."""
    reassembler = UsbReassembler()
    stream = (
        data
        if data[:1] in (b"\x00", b"\x01", b"\x02", b"\x03")
        else b"".join(usb_packets(data[:255]))
    )
    for packet in split_usb_stream(stream):
        message = reassembler.feed_packet(packet)
        if message is not None:
            unwrap_next_layer(message)


class Events:
    """Event reports through the mapper into a tracker, as the client wires them."""

    def __init__(self) -> None:
        self.tracker = CallTracker()
        self.tracker.set_link_up(True)
        self.mapper = EventMapper(self.tracker)
        for cross_ref, number in _MONITORS.items():
            self.mapper.add_monitor(cross_ref, number)
        self.mapper.add_monitor(b"\x01", "100")

    def __call__(self, data: bytes) -> None:
        """Decode an event report and apply it."""
        pdu = decode_pdu(data)
        if isinstance(pdu, Invoke) and pdu.opcode == Opcode.CSTA_EVENT_REPORT and pdu.argument:
            for event in self.mapper.apply(pdu.argument):
                event.as_dict()
            for number in self.tracker.pop_changed():
                self.tracker.snapshot(number)


#: The client's readers of each operation's result.
_RESULT_READERS: list[tuple[Opcode, Callable[[Any], object]]] = [
    (Opcode.MONITOR_START, monitor_cross_ref),
    (Opcode.SNAPSHOT_DEVICE, snapshot_result_calls),
    (Opcode.ESCAPE, device_list_cross_ref),
    (Opcode.START_CDR_TRANSMISSION, lambda result: result),
]


def results(data: bytes) -> None:
    """Answers and PBX requests as the client reads them (results, device lists, CDRs)."""
    pdu = decode_pdu(data)
    if isinstance(pdu, ReturnResult):
        for opcode, reader in _RESULT_READERS:
            with contextlib.suppress(PbxError):
                parse_result(opcode, checked_result(opcode, pdu), reader)
    elif isinstance(pdu, Invoke) and pdu.argument is not None:
        if pdu.opcode == Opcode.ESCAPE:
            parse_linked_reply(pdu.argument)
        elif pdu.opcode == Opcode.CDR_REPORT:
            for record in call_records(pdu.argument, lambda: datetime.now(UTC)):
                record.as_dict()


class SessionDispatch:
    """PDUs into a live CstaSession over a memory link, events on to a mapper.

    ``run`` feeds a batch; a batch ends with a round trip, so everything before it has
    been dispatched. The reader task must survive every input but Abort and Release.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._open())

    async def _open(self) -> None:
        client_end, self.pbx_end = memory_link_pair("fuzz", capacity=100_000)
        events = Events()

        def on_event(report: dict[str, Any]) -> None:
            events.mapper.apply(report)

        def on_record(report: dict[str, Any]) -> None:
            call_records(report, lambda: datetime.now(UTC))

        self.session = CstaSession(client_end, on_event=on_event, on_record=on_record)
        opening = asyncio.ensure_future(self.session.open())
        await self.pbx_end.receive()  # the AARQ
        await self.pbx_end.send(bytes.fromhex(json.loads(VECTORS.read_text())["vectors"][1]["hex"]))
        await opening

    def run(self, batch: Iterable[bytes]) -> str | None:
        """Feed a batch; return a description of an untyped failure, if one happened."""
        return self.loop.run_until_complete(self._run(list(batch)))

    async def _run(self, batch: list[bytes]) -> str | None:
        for data in batch:
            await self.pbx_end.send(data)
        if self.session.closed:  # an Abort or Release in the batch ended it: fine
            return await self._failure_or_reopen()
        probe = asyncio.ensure_future(self.session.invoke(Opcode.SYSTEM_STATUS, None))
        while not probe.done():
            try:
                async with asyncio.timeout(1):
                    request = decode_pdu(await self.pbx_end.receive())
            except (TimeoutError, PbxError):
                break
            if isinstance(request, Invoke) and request.opcode == Opcode.SYSTEM_STATUS:
                await self.pbx_end.send(ReturnResult(request.invoke_id).encode())
                break
        with contextlib.suppress(PbxError, asyncio.CancelledError):
            await probe
        return await self._failure_or_reopen()

    async def _failure_or_reopen(self) -> str | None:
        """The reader's failure, if it failed; else a fresh session if this one ended."""
        failure = self._reader_failure()
        if failure is None and self.session.closed:
            await self._reopen()
        return failure

    def close(self) -> None:
        """End the session and its event loop."""
        self.loop.run_until_complete(self.session.close())
        self.loop.close()

    def _reader_failure(self) -> str | None:
        reader = self.session._reader  # noqa: SLF001  # the fuzzer inspects the session
        if reader is not None and reader.done() and not reader.cancelled():
            error = reader.exception()
            if error is not None:
                return f"{type(error).__name__}: {error}"
        return None

    async def _reopen(self) -> None:
        await self.session.close()
        await self._open()


def fast_path_agreement(data: bytes) -> None:
    """The fast BER decoder answers as asn1tools does, or leaves the input to it."""
    fast = _outcome(data)
    with asn1tools_only():
        slow = _outcome(data)
    if isinstance(fast, PbxError) and isinstance(slow, PbxError):
        if (type(fast), str(fast)) != (type(slow), str(slow)):
            raise AssertionError(f"fast path {fast!r} but asn1tools {slow!r}")
        raise fast
    if not identical(fast, slow):
        raise AssertionError(f"fast path {fast!r} but asn1tools {slow!r}")


def _outcome(data: bytes) -> Any:  # noqa: ANN401  # a PDU or the error
    try:
        return decode_pdu(data)
    except PbxError as err:
        return err


def targets() -> dict[str, Callable[[bytes], None]]:
    """The synchronous targets, by name (the session is driven separately)."""
    specification()
    return {
        "codec": codec,
        "tcp-framing": tcp_framing,
        "usb-framing": usb_framing,
        "event-mapping": Events(),
        "result-handling": results,
        "fast-path-agreement": fast_path_agreement,
    }


def rng_for(name: str, seed: int) -> random.Random:
    """One generator per target and seed."""
    return random.Random(f"{name}-{seed}")
