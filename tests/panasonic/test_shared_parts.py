"""Equal parts of the compiled specification are one object, and code as asn1tools' own."""

from __future__ import annotations

import json
import pickle
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from pbx_protocols.panasonic import spec
from pbx_protocols.panasonic.framing import split_tcp_frames
from pbx_protocols.panasonic.shared_parts import share_equal_parts
from tests.common import identical
from tests.panasonic.strategies import pdus

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "vectors" / "panasonic-csta.json").read_text()
)["vectors"]


def graph_objects(types: dict[str, Any]) -> list[Any]:
    """Every asn1tools object, list and dict the types reach (each once)."""
    seen: dict[int, Any] = {}
    pending = list(types.values())
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        if isinstance(item, (list, dict)):
            seen[id(item)] = item
            pending.extend(item.values() if isinstance(item, dict) else item)
        elif type(item).__module__.startswith(("asn1tools", "pbx_protocols")):
            seen[id(item)] = item
            pending.extend(vars(item).values())
    return list(seen.values())


def test_equal_parts_of_the_specification_are_one_object():
    shared = spec._load_or_compile()
    unshared = spec.compiled_types()
    assert len(graph_objects(shared)) < 0.6 * len(graph_objects(unshared))  # 1,582 of 3,210
    # Sharing again finds nothing left to share.
    again = pickle.loads(pickle.dumps(shared))
    assert len(graph_objects(share_equal_parts(again))) == len(graph_objects(shared))
    # Smaller to read: 76 against 165 kB.
    assert len(pickle.dumps(shared)) < 0.6 * len(pickle.dumps(unshared))


@cache
def shared_and_unshared() -> tuple[spec.Asn1Types, spec.Asn1Types]:
    """The kept types as loaded, and as asn1tools compiles them (built on first use)."""
    return spec.Asn1Types(spec._load_or_compile()), spec.Asn1Types(spec.compiled_types())


def outcome(types: spec.Asn1Types, type_name: str, data: bytes) -> tuple[Any, ...]:
    try:
        value, length = types.decode_with_length(type_name, data)
    except Exception as err:  # asn1tools' own errors, compared as text
        return ("error", type(err).__name__, str(err))
    return ("value", value, length, types.encode(type_name, value))


def assert_codes_the_same(data: bytes) -> int:
    """As every kept type, ``data`` decodes (and encodes again) as with the unshared types.

    Returns how many types decoded it.
    """
    decoded = 0
    shared_types, unshared_types = shared_and_unshared()
    for type_name in sorted(spec.named_types()):
        shared = outcome(shared_types, type_name, data)
        unshared = outcome(unshared_types, type_name, data)
        assert identical(shared, unshared), (type_name, data.hex())
        decoded += shared[0] == "value"
    return decoded


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_codes_as_with_the_unshared_types(vector):
    raw = bytes.fromhex(vector["hex"])
    for pdu in split_tcp_frames(raw) if vector["framing"] == "tcp" else [raw]:
        assert assert_codes_the_same(pdu)


@settings(max_examples=60, deadline=None)
@given(pdus)
def test_generated_pdus_code_as_with_the_unshared_types(pdu):
    data = pdu.encode()
    assert assert_codes_the_same(data)
    assert_codes_the_same(data[: len(data) // 2])  # truncated: the same errors


class Part:
    """An object whose attributes are compared (as asn1tools' types are)."""

    __module__ = "pbx_protocols.panasonic.spec"

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


def test_only_equal_parts_are_shared_and_cycles_keep_their_objects():
    loop = Part(name="loop")
    loop.inner = loop
    first = Part(name="a", tag=bytearray(b"\x80"), members=[Part(name="x", flag=True)])
    second = Part(name="a", tag=bytearray(b"\x80"), members=[Part(name="x", flag=True)])
    third = Part(name="a", tag=bytearray(b"\x80"), members=[Part(name="x", flag=1)])
    shared = share_equal_parts({"first": first, "second": second, "third": third, "loop": loop})
    assert shared["second"] is shared["first"]
    assert shared["third"] is not shared["first"]  # True is not 1 here
    assert shared["third"].tag is shared["first"].tag  # equal byte arrays are one
    assert shared["loop"].inner is shared["loop"]
