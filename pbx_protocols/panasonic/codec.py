"""CSTA PDUs: ACSE association PDUs and ROSE operations, to and from BER bytes.

Decoding is two-step, because asn1tools cannot compile X.880's information objects: the
envelope (ACSE or ROSE) first, then a ROSE argument or result by its operation code. An
unknown operation, or an argument this library cannot type, stays raw (``raw_argument``)
instead of failing the link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import asn1tools

from ..core.errors import ProtocolError
from .operations import EVENT_FAMILIES, OPERATIONS, Opcode, operation_name
from .spec import specification

_LOGGER = logging.getLogger(__name__)

#: ``1.3.12.0.218``: the CSTA application context Panasonic PBXs accept (LinTcMon, real bytes).
CSTA_APPLICATION_CONTEXT: Final = "1.3.12.0.218"
#: ``1.3.12.0.285.200``: ECMA-285 module CSTA-application-context-information-csta3.
CSTA_USER_INFORMATION: Final = "1.3.12.0.285.200"
#: CSTAVersion bit 4, versionFive (ECMA-285 2nd edition): what a real client sends.
CSTA_VERSION_FIVE: Final = b"\x08\x00"

#: Exceptions asn1tools raises for malformed input. Besides its own errors it lets a few
#: builtins escape from deep inside (bad characters in strings, impossible values), which
#: are bad input all the same.
#: A value as asn1tools represents it: dicts for SEQUENCE, (name, value) tuples for CHOICE,
#: bytes for OCTET STRING, (bytes, bit count) for BIT STRING, names for ENUMERATED.
type Asn1Value = Any

_DECODE_FAILURES: Final = (
    asn1tools.Error,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    UnicodeError,
    OverflowError,
    RecursionError,
)
_ACSE_KINDS: Final = {0x60: "aarq", 0x61: "aare", 0x62: "rlrq", 0x63: "rlre", 0x64: "abrt"}
_ROSE_KINDS: Final = {0xA1: "invoke", 0xA2: "returnResult", 0xA3: "returnError", 0xA4: "reject"}

_ASSOCIATE_RESULTS: Final = {0: "accepted", 1: "rejected-permanent", 2: "rejected-transient"}
_ACSE_USER_DIAGNOSTICS: Final = {
    0: "null",
    1: "no-reason-given",
    2: "application-context-name-not-supported",
    11: "authentication-mechanism-name-not-recognised",
    12: "authentication-mechanism-name-required",
    13: "authentication-failure",
    14: "authentication-required",
}
_ACSE_PROVIDER_DIAGNOSTICS: Final = {0: "null", 1: "no-reason-given", 2: "no-common-acse-version"}
_CSTA_VERSIONS: Final = [
    f"version{n}"
    for n in ("One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")
]
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


def decode_value(type_name: str, data: bytes) -> Asn1Value:
    """Decode one ASN.1 value; raise ProtocolError (with the offset) if malformed."""
    try:
        value, length = specification().decode_with_length(type_name, data)
    except _DECODE_FAILURES as err:
        offset = getattr(err, "offset", None)
        message = getattr(err, "message", None) or str(err) or type(err).__name__
        raise ProtocolError(f"malformed {type_name}: {message}", data=data, offset=offset) from err
    if length != len(data):
        raise ProtocolError(
            f"{len(data) - length} unexpected byte(s) after {type_name}", data=data, offset=length
        )
    return value


def encode_value(type_name: str, value: Asn1Value) -> bytes:
    """Encode one ASN.1 value."""
    try:
        return bytes(specification().encode(type_name, value))
    except _DECODE_FAILURES as err:
        raise ProtocolError(f"cannot encode {type_name}: {err}") from err


def _bit_names(bits: bytes, names: list[str]) -> tuple[str, ...]:
    return tuple(
        name
        for index, name in enumerate(names)
        if index // 8 < len(bits) and bits[index // 8] & (0x80 >> (index % 8))
    )


# -- ACSE --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """A CSTA login; the password never appears in a repr."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Aarq:
    """A-ASSOCIATE request: the first PDU a client sends."""

    kind: ClassVar[str] = "aarq"
    application_context_name: str = CSTA_APPLICATION_CONTEXT
    csta_version: bytes = CSTA_VERSION_FIVE
    user_information_reference: str | None = CSTA_USER_INFORMATION
    credentials: Credentials | None = None
    protocol_version: bool = True

    def encode(self) -> bytes:
        """Return the BER bytes."""
        value: dict[str, Any] = {"application-context-name": self.application_context_name}
        if self.protocol_version:
            value["protocol-version"] = (b"\x80", 1)
        if self.credentials is not None:
            value["sender-acse-requirements"] = (b"\x80", 1)  # authentication
            login = encode_value(
                "KmeSenderAuthentication",
                {
                    "authentication-name": self.credentials.username.encode(),
                    "authentication-password": self.credentials.password.encode(),
                },
            )
            value["calling-authentication-value"] = (
                "external",
                {"encoding": ("single-ASN1-type", login)},
            )
        if self.user_information_reference is not None:
            user_data = encode_value(
                "ACSEUserInformationForCSTA",
                ("newDefinition", {"cSTAVersion": (self.csta_version, 8 * len(self.csta_version))}),
            )
            value["user-information"] = [
                {
                    "direct-reference": self.user_information_reference,
                    "encoding": ("single-ASN1-type", user_data),
                }
            ]
        return encode_value("AARQ-apdu", value)

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Aarq:
        """Build from the decoded ASN.1 value."""
        reference, version = _csta_user_information(value.get("user-information"))
        credentials = None
        authentication = value.get("calling-authentication-value")
        if authentication and authentication[0] == "external":
            encoding = authentication[1]["encoding"]
            if encoding[0] == "single-ASN1-type":
                login = decode_value("KmeSenderAuthentication", bytes(encoding[1]))
                credentials = Credentials(
                    bytes(login["authentication-name"]).decode(errors="replace"),
                    bytes(login["authentication-password"]).decode(errors="replace"),
                )
        return cls(
            application_context_name=value["application-context-name"],
            csta_version=version or b"",
            user_information_reference=reference,
            credentials=credentials,
            protocol_version="protocol-version" in value,
        )

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line (no password)."""
        return {
            "pdu": self.kind,
            "protocol_version": "version1" if self.protocol_version else None,
            "application_context_name": self.application_context_name,
            "user_information_direct_reference": self.user_information_reference,
            "csta_version": list(_bit_names(self.csta_version, _CSTA_VERSIONS)),
            "csta_version_bitstring": self.csta_version.hex(),
            "username": self.credentials.username if self.credentials else None,
        }


@dataclass(frozen=True, slots=True)
class Aare:
    """A-ASSOCIATE response: whether the PBX accepted the association."""

    kind: ClassVar[str] = "aare"
    result: int
    diagnostic_source: str = "acse-service-user"
    diagnostic: int = 1
    application_context_name: str = CSTA_APPLICATION_CONTEXT
    csta_version: bytes | None = CSTA_VERSION_FIVE
    protocol_version: bool = True

    @property
    def accepted(self) -> bool:
        """Whether the association was accepted."""
        return self.result == 0

    @property
    def result_name(self) -> str:
        """ACSE name of the result."""
        return _ASSOCIATE_RESULTS.get(self.result, f"result{self.result}")

    @property
    def diagnostic_name(self) -> str:
        """ACSE name of the diagnostic."""
        table = (
            _ACSE_USER_DIAGNOSTICS
            if self.diagnostic_source == "acse-service-user"
            else _ACSE_PROVIDER_DIAGNOSTICS
        )
        return table.get(self.diagnostic, f"diagnostic{self.diagnostic}")

    @property
    def authentication_failed(self) -> bool:
        """Whether the PBX refused the credentials (or wanted some)."""
        return self.diagnostic_source == "acse-service-user" and self.diagnostic in (12, 13, 14)

    def encode(self) -> bytes:
        """Return the BER bytes."""
        value: dict[str, Any] = {
            "application-context-name": self.application_context_name,
            "result": self.result,
            "result-source-diagnostic": (self.diagnostic_source, self.diagnostic),
        }
        if self.protocol_version:
            value["protocol-version"] = (b"\x80", 1)
        if self.csta_version is not None:
            user_data = encode_value(
                "ACSEUserInformationForCSTA",
                ("newDefinition", {"cSTAVersion": (self.csta_version, 8 * len(self.csta_version))}),
            )
            value["user-information"] = [
                {
                    "direct-reference": CSTA_USER_INFORMATION,
                    "encoding": ("single-ASN1-type", user_data),
                }
            ]
        return encode_value("AARE-apdu", value)

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Aare:
        """Build from the decoded ASN.1 value."""
        source, diagnostic = value["result-source-diagnostic"]
        _, version = _csta_user_information(value.get("user-information"))
        return cls(
            result=value["result"],
            diagnostic_source=source,
            diagnostic=diagnostic,
            application_context_name=value["application-context-name"],
            csta_version=version,
            protocol_version="protocol-version" in value,
        )

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {
            "pdu": self.kind,
            "result": self.result_name,
            "result_code": self.result,
            "result_source_diagnostic": self.diagnostic_source,
            "diagnostic": self.diagnostic_name,
            "diagnostic_code": self.diagnostic,
            "application_context_name": self.application_context_name,
            "csta_version_bitstring": self.csta_version.hex() if self.csta_version else None,
        }


def _csta_user_information(info: list[dict[str, Any]] | None) -> tuple[str | None, bytes | None]:
    """Return (direct reference, CSTA version bits) from ACSE user information."""
    for external in info or []:
        encoding = external["encoding"]
        if encoding[0] != "single-ASN1-type":
            continue
        decoded = decode_value("ACSEUserInformationForCSTA", bytes(encoding[1]))
        return external.get("direct-reference"), bytes(decoded[1]["cSTAVersion"][0])
    return None, None


@dataclass(frozen=True, slots=True)
class _Release:
    """A-RELEASE request or response: both carry only an optional reason."""

    kind: ClassVar[str]
    asn1_type: ClassVar[str]
    reason: int | None = 0

    def encode(self) -> bytes:
        """Return the BER bytes."""
        value = {} if self.reason is None else {"reason": self.reason}
        return encode_value(self.asn1_type, value)

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {"pdu": self.kind, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ReleaseRequest(_Release):
    """A-RELEASE request (either side ends the association politely)."""

    kind: ClassVar[str] = "rlrq"
    asn1_type: ClassVar[str] = "RLRQ-apdu"


@dataclass(frozen=True, slots=True)
class ReleaseResponse(_Release):
    """A-RELEASE response."""

    kind: ClassVar[str] = "rlre"
    asn1_type: ClassVar[str] = "RLRE-apdu"


@dataclass(frozen=True, slots=True)
class Abort:
    """A-ABORT: the association ends at once."""

    kind: ClassVar[str] = "abrt"
    source: int = 0
    diagnostic: int | None = None

    def encode(self) -> bytes:
        """Return the BER bytes."""
        value: dict[str, Any] = {"abort-source": self.source}
        if self.diagnostic is not None:
            value["abort-diagnostic"] = self.diagnostic
        return encode_value("ABRT-apdu", value)

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        source = "acse-service-user" if self.source == 0 else "acse-service-provider"
        return {"pdu": self.kind, "abort_source": source, "abort_diagnostic": self.diagnostic}


# -- ROSE --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invoke:
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
            "invoke_id": self.invoke_id,
            "opcode": self.opcode,
            "operation": self.operation,
            "argument": to_json(self.argument),
            "raw_argument": self.raw_argument.hex() if self.raw_argument is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ReturnResult:
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
            "invoke_id": self.invoke_id,
            "opcode": self.opcode,
            "operation": self.operation,
            "result": to_json(self.result),
            "raw_result": self.raw_result.hex() if self.raw_result is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ReturnError:
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
            return f"{category}.{detail}" if detail is not None else category
        return f"error {self.error_code}"

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
            "invoke_id": self.invoke_id,
            "error_code": self.error_code,
            "parameter": to_json(self.parameter),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Reject:
    """ROSE Reject: a PDU could not even be processed."""

    kind: ClassVar[str] = "reject"
    invoke_id: int | None
    problem: str
    code: int

    @property
    def reason(self) -> str:
        """Readable reason, e.g. ``invoke.unrecognizedOperation``."""
        names = _REJECT_PROBLEMS.get(self.problem, ())
        name = names[self.code] if 0 <= self.code < len(names) else str(self.code)
        return f"{self.problem}.{name}"

    def encode(self) -> bytes:
        """Return the BER bytes."""
        invoke_id = ("absent", None) if self.invoke_id is None else ("present", self.invoke_id)
        value = {"invokeId": invoke_id, "problem": (self.problem, self.code)}
        return encode_value("ROSE-apdu", ("reject", value))

    def as_json(self) -> dict[str, Any]:
        """Describe the PDU for the command line."""
        return {"pdu": self.kind, "invoke_id": self.invoke_id, "problem": self.reason}


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


def decode_pdu(data: bytes) -> Pdu:
    """Decode one CSTA PDU (without framing); raise ProtocolError if it is malformed."""
    if not data:
        raise ProtocolError("empty PDU", offset=0)
    tag = data[0]
    if tag in _ACSE_KINDS:
        return _decode_acse(_ACSE_KINDS[tag], data)
    if tag in _ROSE_KINDS:
        return _decode_rose(decode_value("ROSE-apdu", data))
    raise ProtocolError(f"unknown PDU tag 0x{tag:02x}", data=data, offset=0)


def _decode_acse(kind: str, data: bytes) -> Pdu:
    kind_name, value = decode_value("ACSE-apdu", data)
    assert kind_name == kind
    try:
        if kind == "aarq":
            return Aarq.from_value(value)
        if kind == "aare":
            return Aare.from_value(value)
    except (KeyError, IndexError, TypeError) as err:
        raise ProtocolError(f"malformed {kind}: {err}", data=data) from err
    if kind == "rlrq":
        return ReleaseRequest(value.get("reason"))
    if kind == "rlre":
        return ReleaseResponse(value.get("reason"))
    return Abort(value["abort-source"], value.get("abort-diagnostic"))


def _decode_rose(envelope: tuple[str, dict[str, Any]]) -> Pdu:
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


def to_json(value: Asn1Value) -> Any:  # noqa: ANN401  # JSON is as dynamic as its input
    """Render a decoded ASN.1 value for JSON: CHOICEs as {name: value}, bytes as hex."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, tuple) and len(value) == 2:
        first, second = value
        if isinstance(first, str):
            return {first: to_json(second)}
        if isinstance(first, (bytes, bytearray)) and isinstance(second, int):
            return {"bits": bytes(first).hex(), "length": second}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value
