"""CSTA PDUs: ACSE association PDUs and ROSE operations, to and from BER bytes.

Decoding is two-step, because asn1tools cannot compile X.880's information objects: the
envelope (ACSE or ROSE) first, then a ROSE argument or result by its operation code. An
unknown operation, or an argument this library cannot type, stays raw (``raw_argument``)
instead of failing the link.
"""

from __future__ import annotations

from typing import Final

from ..core.errors import ProtocolError
from .acse import (
    CSTA_APPLICATION_CONTEXT,
    CSTA_USER_INFORMATION,
    CSTA_VERSION_FIVE,
    Aare,
    Aarq,
    Abort,
    Credentials,
    ReleaseRequest,
    ReleaseResponse,
    decode_acse,
    masked,
)
from .ber import check_pdu_limits, check_pdu_size
from .rose import Invoke, Reject, ReturnError, ReturnResult, decode_rose, decoded_type_names
from .values import Asn1Value, decode_value, encode_value, prepare_decoders, to_json

__all__ = [
    "CSTA_APPLICATION_CONTEXT",
    "CSTA_USER_INFORMATION",
    "CSTA_VERSION_FIVE",
    "Aare",
    "Aarq",
    "Abort",
    "Asn1Value",
    "Credentials",
    "Invoke",
    "Pdu",
    "Reject",
    "ReleaseRequest",
    "ReleaseResponse",
    "ReturnError",
    "ReturnResult",
    "async_prepare_decoding",
    "decode_pdu",
    "decode_value",
    "encode_value",
    "to_json",
]

_ACSE_KINDS: Final = {0x60: "aarq", 0x61: "aare", 0x62: "rlrq", 0x63: "rlre", 0x64: "abrt"}
_ROSE_KINDS: Final = {0xA1: "invoke", 0xA2: "returnResult", 0xA3: "returnError", 0xA4: "reject"}

type Pdu = (
    Aarq
    | Aare
    | ReleaseRequest
    | ReleaseResponse
    | Abort
    | Invoke
    | ReturnResult
    | ReturnError
    | Reject
)


async def async_prepare_decoding() -> None:
    """Load the specification and build the decoder of every PDU type, in a worker thread.

    Built at the first PDU of its type instead, an event report's decoder (about 40 ms)
    would hold up that report and every one behind it. Built once per process.
    """
    import asyncio  # decoding alone (the CLI's decode) does not need it

    await asyncio.get_running_loop().run_in_executor(None, prepare_decoders, decoded_type_names())


def decode_pdu(data: bytes) -> Pdu:
    """Decode one CSTA PDU (without framing); raise ProtocolError if it is malformed."""
    if not data:
        raise ProtocolError("empty PDU", offset=0)
    tag = data[0]
    if tag in _ROSE_KINDS:
        # The fast path is linear and caps identifiers itself; the limits are asn1tools'.
        check_pdu_size(data)
        return decode_rose(decode_value("ROSE-apdu", data, before_asn1tools=check_pdu_limits))
    if tag not in _ACSE_KINDS:
        raise ProtocolError(f"unknown PDU tag 0x{tag:02x}", data=data, offset=0)
    try:
        check_pdu_limits(data)
        return decode_acse(_ACSE_KINDS[tag], data)
    except ProtocolError as err:
        # A malformed AARQ may carry a login: never quote it in a message.
        raise ProtocolError(err.message, data=masked(data), offset=err.offset) from err
