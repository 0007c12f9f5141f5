"""ROSE operation PDUs (invoke, result, error, reject) carrying CSTA arguments."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ..core.errors import ProtocolError
from ..core.render import SafeRepr, int_text, json_value
from .operations import (
    EVENT_FAMILIES,
    OPERATIONS,
    Opcode,
    operation_name,
    operation_type_names,
)
from .values import decode_value, encode_value, to_json

_LOGGER = logging.getLogger(__name__)

_REJECT_PROBLEMS: Final = {
    "general": ("unrecognizedPDU", "mistypedPDU", "badlyStructuredPDU"),
    "invoke": (
        "duplicateInvocation",
        "unrecognizedOperation",
        "mistypedArgument",
        "resourceLimitation",
        "releaseInProgress",
        "unrecognizedLinkedId",
        "linkedResponseUnexpected",
        "unexpectedLinkedOperation",
    ),
    "returnResult": ("unrecognizedInvocation", "resultResponseUnexpected", "mistypedResult"),
    "returnError": (
        "unrecognizedInvocation",
        "errorResponseUnexpected",
        "unrecognizedError",
        "unexpectedError",
        "mistypedParameter",
    ),
}


@dataclass(frozen=True, slots=True, repr=False)
class Invoke(SafeRepr):
    """ROSE Invoke: a request (client or PBX side), event reports included."""

    kind: ClassVar[str] = "invoke"
    invoke_id: int
    opcode: int
    argument: Any = None
    #: The argument's bytes when it could not be typed (unknown operation, odd content).
    raw_argument: bytes | None = None
    linked_id: int | None = None

    @property
    def operation(self) -> str:
        """ECMA-285 name of the operation."""
        return operation_name(self.opcode)

    def encode(self) -> bytes:
        """Return the BER bytes; ``argument`` is encoded with the operation's type."""
        value: dict[str, Any] = {"invokeId": self.invoke_id, "opcode": ("local", self.opcode)}
        if self.linked_id is not None:
            value["linkedId"] = ("present", self.linked_id)
        if self.raw_argument is not None:
            value["argument"] = self.raw_argument
        elif self.argument is not None:
            value["argument"] = encode_value(OPERATIONS[self.opcode].argument, self.argument)
        return encode_value("ROSE-apdu", ("invoke", value))

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {
            "pdu": self.kind,
            "invoke_id": json_value(self.invoke_id),
            "opcode": json_value(self.opcode),
            "operation": self.operation,
            "argument": to_json(self.argument),
            "raw_argument": self.raw_argument.hex() if self.raw_argument is not None else None,
        }


@dataclass(frozen=True, slots=True, repr=False)
class ReturnResult(SafeRepr):
    """ROSE ReturnResult: the successful answer to an Invoke."""

    kind: ClassVar[str] = "returnResult"
    invoke_id: int
    opcode: int | None = None
    result: Any = None
    raw_result: bytes | None = None

    @property
    def operation(self) -> str | None:
        """ECMA-285 name of the operation answered, if the result names it."""
        return operation_name(self.opcode) if self.opcode is not None else None

    def encode(self) -> bytes:
        """Return the BER bytes; ``result`` is encoded with the operation's result type."""
        value: dict[str, Any] = {"invokeId": self.invoke_id}
        if self.opcode is not None:
            if self.raw_result is not None:
                raw = self.raw_result
            else:
                result_type = OPERATIONS[self.opcode].result
                assert result_type is not None, f"{self.operation} has no result"
                raw = encode_value(result_type, self.result)
            value["result"] = {"opcode": ("local", self.opcode), "result": raw}
        return encode_value("ROSE-apdu", ("returnResult", value))

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {
            "pdu": self.kind,
            "invoke_id": json_value(self.invoke_id),
            "opcode": json_value(self.opcode),
            "operation": self.operation,
            "result": to_json(self.result),
            "raw_result": self.raw_result.hex() if self.raw_result is not None else None,
        }


@dataclass(frozen=True, slots=True, repr=False)
class ReturnError(SafeRepr):
    """ROSE ReturnError: the PBX refused an Invoke (CSTA universalFailure)."""

    kind: ClassVar[str] = "returnError"
    invoke_id: int
    error_code: int
    parameter: Any = None
    raw_parameter: bytes | None = None

    @property
    def reason(self) -> str:
        """Readable reason, e.g. ``stateIncompatibility.noCallToAnswer``."""
        if isinstance(self.parameter, tuple) and len(self.parameter) == 2:
            category, detail = self.parameter
            shown = int_text(detail) if isinstance(detail, int) else detail
            return f"{category}.{shown}" if detail is not None else category
        return f"error {int_text(self.error_code)}"

    def encode(self) -> bytes:
        """Return the BER bytes (the parameter as a CSTA UniversalFailure)."""
        value: dict[str, Any] = {"invokeId": self.invoke_id, "errcode": ("local", self.error_code)}
        if self.raw_parameter is not None:
            value["parameter"] = self.raw_parameter
        elif self.parameter is not None:
            value["parameter"] = encode_value("UniversalFailure", self.parameter)
        return encode_value("ROSE-apdu", ("returnError", value))

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {
            "pdu": self.kind,
            "invoke_id": json_value(self.invoke_id),
            "error_code": json_value(self.error_code),
            "parameter": to_json(self.parameter),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, repr=False)
class Reject(SafeRepr):
    """ROSE Reject: a PDU could not even be processed."""

    kind: ClassVar[str] = "reject"
    invoke_id: int | None
    problem: str
    code: int

    @property
    def reason(self) -> str:
        """Readable reason, e.g. ``invoke.unrecognizedOperation``."""
        names = _REJECT_PROBLEMS.get(self.problem, ())
        name = names[self.code] if 0 <= self.code < len(names) else int_text(self.code)
        return f"{self.problem}.{name}"

    def encode(self) -> bytes:
        """Return the BER bytes."""
        invoke_id = ("absent", None) if self.invoke_id is None else ("present", self.invoke_id)
        value = {"invokeId": invoke_id, "problem": (self.problem, self.code)}
        return encode_value("ROSE-apdu", ("reject", value))

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {"pdu": self.kind, "invoke_id": json_value(self.invoke_id), "problem": self.reason}


type RosePdu = Invoke | ReturnResult | ReturnError | Reject


def decoded_type_names() -> set[str]:
    """Every ASN.1 type a ROSE PDU is decoded as.

    The envelope, each operation's argument and result, and the universal failure.
    """
    return {"ROSE-apdu", *operation_type_names()}


def decode_rose(envelope: tuple[str, dict[str, Any]]) -> RosePdu:
    """Build the ROSE PDU from its decoded envelope, typing the argument by operation."""
    kind, value = envelope
    if kind == "invoke":
        opcode = _local_code(value["opcode"])
        linked = value.get("linkedId")
        raw = bytes(value["argument"]) if "argument" in value else None
        operation = OPERATIONS.get(opcode)
        linked_id = linked[1] if linked and linked[0] == "present" else None
        if raw is None or operation is None:
            return Invoke(value["invokeId"], opcode, None, raw, linked_id)
        argument, leftover = _typed(operation.argument, raw, operation.name)
        if opcode == Opcode.CSTA_EVENT_REPORT and argument is not None:
            argument = _name_untyped_events(argument)
        return Invoke(value["invokeId"], opcode, argument, leftover, linked_id)
    if kind == "returnResult":
        result = value.get("result")
        if result is None:
            return ReturnResult(value["invokeId"])
        opcode = _local_code(result["opcode"])
        raw = bytes(result["result"])
        operation = OPERATIONS.get(opcode)
        if operation is None or operation.result is None:
            return ReturnResult(value["invokeId"], opcode, None, raw)
        decoded, leftover = _typed(operation.result, raw, operation.name)
        return ReturnResult(value["invokeId"], opcode, decoded, leftover)
    if kind == "returnError":
        code = _local_code(value["errcode"])
        raw = bytes(value["parameter"]) if "parameter" in value else None
        if raw is None or code != 1:
            return ReturnError(value["invokeId"], code, None, raw)
        parameter, leftover = _typed("UniversalFailure", raw, "universalFailure")
        return ReturnError(value["invokeId"], code, parameter, leftover)
    invoke_id = value["invokeId"]
    problem, code = value["problem"]
    return Reject(invoke_id[1] if invoke_id[0] == "present" else None, problem, code)


def _local_code(code: tuple[str, Any]) -> int:
    # CSTA only uses local codes; a global (OID) code maps to -1, "unknown".
    return int(code[1]) if code[0] == "local" else -1


def _typed(type_name: str, raw: bytes, what: str) -> tuple[Any, bytes | None]:
    """Decode ``raw`` as ``type_name``; on failure keep it raw and say so once in the log."""
    try:
        return decode_value(type_name, raw), None
    except ProtocolError as err:
        _LOGGER.debug("Keeping %s undecoded: %s", what, err)
        return None, raw


def _name_untyped_events(argument: dict[str, Any]) -> dict[str, Any]:
    """Give event families kept as raw TLVs (display, agent, ...) their ECMA-285 names."""
    family, content = argument["eventSpecificInfo"]
    if not isinstance(content, (bytes, bytearray)) or not content:
        return argument
    names = EVENT_FAMILIES.get(family, {})
    number = content[0] & 0x1F
    event = names.get(number, f"event{number}")
    return {**argument, "eventSpecificInfo": (family, (event, bytes(content)))}
