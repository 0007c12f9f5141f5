"""The fast BER decoder answers exactly as asn1tools does, or leaves the input to it."""

from __future__ import annotations

import gc
import json
import random
from pathlib import Path
from typing import Any

import asn1tools
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.panasonic_decode import event_reports
from pbx_protocols.core.errors import ProtocolError
from pbx_protocols.panasonic.codec import decode_pdu
from pbx_protocols.panasonic.fast_ber import FallBack, FastDecoder, _Node
from pbx_protocols.panasonic.framing import split_tcp_frames
from pbx_protocols.panasonic.spec import named_types, specification
from pbx_protocols.panasonic.values import asn1tools_only, fast_decoder
from tests.common import identical
from tests.panasonic.strategies import pdus

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "vectors" / "panasonic-csta.json").read_text()
)["vectors"]


def slow_pdu(data: bytes) -> Any:
    """decode_pdu with asn1tools alone."""
    with asn1tools_only():
        return decode_pdu(data)


def outcome(decode: Any, data: bytes) -> Any:
    try:
        return decode(data)
    except ProtocolError as err:
        return ("error", str(err))


def assert_same_pdu(data: bytes) -> None:
    fast, slow = outcome(decode_pdu, data), outcome(slow_pdu, data)
    assert identical(fast, slow), (data.hex(), fast, slow)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_decodes_the_same(vector):
    raw = bytes.fromhex(vector["hex"])
    for pdu in split_tcp_frames(raw) if vector["framing"] == "tcp" else [raw]:
        assert_same_pdu(pdu)


@given(pdus)
@settings(max_examples=300)
def test_generated_pdus_decode_the_same(pdu):
    assert_same_pdu(pdu.encode())


@given(pdus, st.randoms(use_true_random=False))
@settings(max_examples=300)
def test_damaged_pdus_decode_the_same_or_fail_the_same(pdu, rng: random.Random):
    data = bytearray(pdu.encode())
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        position = rng.randrange(len(data))
        if choice < 0.5:
            data[position] = rng.randrange(256)
        elif choice < 0.75:
            del data[position:]
        else:
            data[position:position] = bytes([rng.randrange(256)])
        if not data:
            return
    assert_same_pdu(bytes(data))


def test_the_fast_path_takes_what_a_busy_office_sends():
    """The point of it: the simulator's event reports (the benchmark's mix) never fall back."""
    decoder = fast_decoder()
    reports = event_reports()
    kinds = set()
    for report in reports:
        envelope = decoder.decode("ROSE-apdu", report)
        argument = decoder.decode("CSTAEventReportArgument", bytes(envelope[1]["argument"]))
        kinds.add(argument["eventSpecificInfo"][1][0])
    assert len(kinds) >= 8


@pytest.mark.parametrize(
    "data",
    [
        "3080",  # indefinite length
        "2403040100",  # a constructed OCTET STRING
        "30",  # cut off
        "3005020101",  # content shorter than announced
    ],
)
def test_unusual_or_broken_encodings_are_left_to_asn1tools(data):
    with pytest.raises(FallBack):
        fast_decoder().decode("ROSE-apdu", bytes.fromhex(data))


def test_identifiers_decode_linearly_and_long_ones_are_asn1tools_to_refuse():
    decoder = fast_decoder()
    aarq = bytes.fromhex(
        "602380020780a10706052b0c00815abe14281206072b0c00821d8148a007a0050303000800"
    )
    assert decoder.decode("AARQ-apdu", aarq)["application-context-name"] == "1.3.12.0.218"
    with pytest.raises(FallBack):  # 100 bytes: longer than a PBX sends
        decoder.decode("AARQ-apdu", bytes.fromhex("6066a164066a2b") + b"\x01" * 99)


SMALL_SPEC = """
Small DEFINITIONS IMPLICIT TAGS ::= BEGIN
  Plain ::= SEQUENCE {
    number INTEGER,
    label [0] IA5String OPTIONAL,
    wrapped [1] EXPLICIT CHOICE { flag [2] BOOLEAN, text [3] IA5String } OPTIONAL,
    ...,
    later [4] INTEGER
  }
  WithDefault ::= SEQUENCE { number INTEGER, flag BOOLEAN DEFAULT TRUE }
  Tree ::= SEQUENCE { value INTEGER, children [5] SEQUENCE OF Tree OPTIONAL }
  Expr ::= CHOICE { num [0] INTEGER, pair [1] SEQUENCE { left Expr, right Expr } }
END
"""


@pytest.fixture(scope="module")
def small_spec() -> Any:
    return asn1tools.compile_string(SMALL_SPEC, "ber")


@pytest.mark.parametrize(
    "value",
    [
        {"number": 5},
        {"number": -300, "label": "x"},
        {"number": 0, "wrapped": ("flag", True)},
        {"number": 1, "label": "", "wrapped": ("text", "abc"), "later": 7},
        {"number": 1, "later": 70000},
    ],
)
def test_generated_sequences_and_explicit_tags_answer_as_asn1tools(small_spec, value):
    data = small_spec.encode("Plain", value)
    fast = FastDecoder(small_spec, max_identifier=64).decode("Plain", data)
    assert identical(fast, small_spec.decode("Plain", data))
    for cut in range(1, len(data)):  # every truncation falls back (asn1tools reports it)
        with pytest.raises(FallBack):
            FastDecoder(small_spec, max_identifier=64).decode("Plain", data[:cut])


def test_members_out_of_order_and_defaults_are_left_to_asn1tools(small_spec):
    decoder = FastDecoder(small_spec, max_identifier=64)
    with pytest.raises(FallBack):  # label before number
        decoder.decode("Plain", bytes.fromhex("3006800178020105"))
    with pytest.raises(FallBack):  # number missing
        decoder.decode("Plain", bytes.fromhex("3003800178"))
    data = small_spec.encode("WithDefault", {"number": 1})
    with pytest.raises(FallBack):  # asn1tools fills in the default
        decoder.decode("WithDefault", data)
    assert small_spec.decode("WithDefault", data) == {"number": 1, "flag": True}


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        (
            "Tree",
            {"value": 1, "children": [{"value": 2}, {"value": 3, "children": [{"value": 4}]}]},
        ),
        (
            "Expr",
            (
                "pair",
                {"left": ("num", 1), "right": ("pair", {"left": ("num", 2), "right": ("num", 3)})},
            ),
        ),
    ],
)
def test_recursive_types_decode_fast_and_the_same(small_spec, type_name, value):
    """Members whose type is still being built when the SEQUENCE is generated (recursion)."""
    data = small_spec.encode(type_name, value)
    fast = FastDecoder(small_spec, max_identifier=64).decode(type_name, data)
    assert identical(fast, small_spec.decode(type_name, data))


def decoders_reachable(*roots: Any) -> int:
    """How many decoder nodes ``roots`` lead to (through closures and namespaces as well)."""
    seen: set[int] = set()
    nodes = 0
    pending = list(roots)
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int)):
            continue
        if isinstance(item, dict) and "__spec__" in item:
            continue  # a module's namespace: not the decoders' own
        seen.add(id(item))
        nodes += isinstance(item, _Node)
        pending.extend(gc.get_referents(item))
    return nodes


SHARED_SPEC = """
Shared DEFINITIONS IMPLICIT TAGS ::= BEGIN
  Id ::= CHOICE { number [0] INTEGER, name [1] IA5String }
  Pair ::= SEQUENCE { first Id, second Id, third [2] EXPLICIT Id, fourth [3] EXPLICIT Id }
END
"""


def test_types_of_the_same_shape_share_one_decoder():
    """asn1tools compiles ``Id`` into ``Pair`` four times; its decoders are built once."""
    shared_spec = asn1tools.compile_string(SHARED_SPEC, "ber")
    decoder = FastDecoder(shared_spec, max_identifier=64)
    value = {
        "first": ("number", 1),
        "second": ("name", "a"),
        "third": ("number", -2),
        "fourth": ("name", "b"),
    }
    assert decoder.decode("Pair", shared_spec.encode("Pair", value)) == value
    # The SEQUENCE, the CHOICE, INTEGER, IA5String and the explicit tags [2] and [3]; with a
    # decoder per asn1tools type, 15 (the CHOICE and its alternatives four times).
    assert decoders_reachable(decoder) == 6


def test_the_specification_s_decoders_are_built_once_per_shape():
    """1,277 asn1tools types make a few hundred decoders (memory: 1.63 -> 0.55 MB)."""
    decoder = FastDecoder(specification(), max_identifier=64)
    decoder.prepare(sorted(named_types()))
    assert decoders_reachable(decoder) < 300  # 647 when each asn1tools type had its own
