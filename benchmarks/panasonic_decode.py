"""Throughput of CSTA event reports: decoded and mapped, against pyasn1 on the same bytes.

Run with ``script/benchmark``. The report mix comes from the simulator's call model (the
same events a busy office produces), pinned to one CPU core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.type import tag as pyasn1_tag

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.panasonic.codec import Invoke, decode_pdu
from pbx_protocols.panasonic.events import EventMapper
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.simulator.pbx import SimulatedPbx

EXTENSIONS = [str(n) for n in range(101, 121)]
#: pyasn1 ships no type information.
type Pyasn1TagSet = Any


def event_reports() -> list[bytes]:
    """One office morning of event reports, each as the PBX sends it."""
    pbx = SimulatedPbx(EXTENSIONS)
    reports: list[bytes] = []
    cross_refs = {
        number: bytes.fromhex(f"0111{index:04x}") for index, number in enumerate(EXTENSIONS)
    }

    def capture(device: str, family: str, name: str, value: object) -> None:
        report = {
            "crossRefIdentifier": cross_refs[device],
            "eventSpecificInfo": (family, (name, value)),
        }
        reports.append(Invoke(len(reports) + 1, Opcode.CSTA_EVENT_REPORT, report).encode())

    pbx.subscribe(capture)
    for round_ in range(10):
        a, b, c, d = (EXTENSIONS[(round_ * 4 + k) % len(EXTENSIONS)] for k in range(4))
        call = pbx.make_call(a, b)
        pbx.answer(b, call)
        pbx.hold(a, call)
        pbx.retrieve(a, call)
        pbx.clear_connection(a, call)
        external = pbx.incoming_call("0301234567", c)
        pbx.answer(c, external)
        moved = pbx.single_step_transfer(c, external, d)
        pbx.answer(d, moved)
        pbx.clear_connection(d, moved)
        missed = pbx.incoming_call("0891234567", b)
        pbx.clear_connection("0891234567", missed)
    return reports


def schemaless_pyasn1() -> Callable[[bytes], object]:
    """pyasn1 decoding without a schema: unknown tags decode as SEQUENCE or OCTET STRING.

    Out of the box pyasn1 takes a constructed context tag for EXPLICIT tagging (one child)
    and stops at implicit primitives; this tag map lets it walk every TLV of a CSTA PDU.
    """
    sequence = pyasn1_decoder.SequenceOrSequenceOfPayloadDecoder()
    octets = pyasn1_decoder.OctetStringPayloadDecoder()

    class TaggedPayloadDecoder(pyasn1_decoder.AbstractPayloadDecoder):  # type: ignore[misc]
        def valueDecoder(  # pyasn1's name
            self,
            substrate: object,
            asn1Spec: object,
            tagSet: Pyasn1TagSet,
            *args: object,
            **options: object,
        ) -> Iterator[object]:
            # pyasn1's Tag equality ignores the constructed bit: decide here.
            constructed = tagSet[0].tagFormat == pyasn1_tag.tagFormatConstructed
            inner = sequence if constructed else octets
            yield from inner.valueDecoder(substrate, asn1Spec, tagSet, *args, **options)

    tagged = TaggedPayloadDecoder()
    tag_map = dict(pyasn1_decoder.TAG_MAP)
    for tag_class in (pyasn1_tag.tagClassContext, pyasn1_tag.tagClassApplication):
        for number in range(64):
            key = pyasn1_tag.Tag(tag_class, pyasn1_tag.tagFormatSimple, number)
            tag_map[pyasn1_tag.TagSet(key, key)] = tagged
    decode = pyasn1_decoder.Decoder()
    return lambda data: decode(data, tagMap=tag_map)


def measure(
    name: str, work: Callable[[bytes], object], corpus: list[bytes], seconds: float
) -> dict[str, Any]:
    """Run ``work`` over the corpus again and again for about ``seconds``."""
    for pdu in corpus:  # warm up, and prove it handles every report
        work(pdu)
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for pdu in corpus:
            work(pdu)
        done += len(corpus)
    return {
        "measurement": name,
        "reports": done,
        "seconds": round(elapsed, 3),
        "per_second": round(done / elapsed),
    }


#: Seconds of decoding that tell how fast the cores are at the moment.
CALIBRATION_SECONDS = 1.0


def calibration(benchmark: str, when: str) -> dict[str, Any]:
    """How fast this machine decodes right now: its cores' speed varies from minute to minute.

    Printed by the other benchmarks before and after their measurements, so that each run
    says how fast the machine was (the ``decode only`` figure of this benchmark).
    """
    corpus = event_reports()
    result = measure("decode only", decode_pdu, corpus, CALIBRATION_SECONDS)
    return {"benchmark": benchmark, "calibration": when, "decodes_per_second": result["per_second"]}


def _invoke(pdu: bytes) -> Invoke:
    invoke = decode_pdu(pdu)
    assert isinstance(invoke, Invoke)
    return invoke


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")


def main(args: argparse.Namespace) -> None:
    """Print one JSON line per measurement."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    corpus = event_reports()
    kinds = Counter(_invoke(pdu).argument["eventSpecificInfo"][1][0] for pdu in corpus)

    tracker = CallTracker()
    tracker.set_link_up(True)
    mapper = EventMapper(tracker)
    for index, number in enumerate(EXTENSIONS):
        mapper.add_monitor(bytes.fromhex(f"0111{index:04x}"), number)

    def decode_and_map(pdu: bytes) -> object:
        return mapper.apply(_invoke(pdu).argument)

    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "reports_in_corpus": len(corpus),
                "mean_bytes": round(sum(map(len, corpus)) / len(corpus), 1),
                "event_kinds": dict(kinds),
            }
        )
    )
    for name, work in [
        ("pbx_protocols decode + map to vendor-neutral events", decode_and_map),
        ("pbx_protocols decode only", decode_pdu),
        ("pyasn1 schema-less lower bound (no schema, no field names)", schemaless_pyasn1()),
    ]:
        print(json.dumps(measure(name, work, corpus, args.seconds)), flush=True)
