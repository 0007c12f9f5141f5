"""ACSE association PDUs (AARQ, AARE, release, abort) as Panasonic PBXs exchange them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from ..core.errors import ProtocolError
from ..core.render import SafeRepr, int_text, json_value
from .ber import credential_spans
from .values import bit_names, decode_value, encode_value

CSTA_APPLICATION_CONTEXT: Final = "1.3.12.0.218"
#: ``1.3.12.0.285.200``: ECMA-285 module CSTA-application-context-information-csta3.
CSTA_USER_INFORMATION: Final = "1.3.12.0.285.200"
#: CSTAVersion bit 4, versionFive (ECMA-285 2nd edition): what a real client sends.
CSTA_VERSION_FIVE: Final = b"\x08\x00"

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


@dataclass(frozen=True, slots=True)
class Credentials:
    """A CSTA login; the password never appears in a repr."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True, repr=False)
class Aarq(SafeRepr):
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
            "csta_version": list(bit_names(self.csta_version, _CSTA_VERSIONS)),
            "csta_version_bitstring": self.csta_version.hex(),
            "username": self.credentials.username if self.credentials else None,
        }


@dataclass(frozen=True, slots=True, repr=False)
class Aare(SafeRepr):
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
        return _ASSOCIATE_RESULTS.get(self.result, f"result{int_text(self.result)}")

    @property
    def diagnostic_name(self) -> str:
        """ACSE name of the diagnostic."""
        table = (
            _ACSE_USER_DIAGNOSTICS
            if self.diagnostic_source == "acse-service-user"
            else _ACSE_PROVIDER_DIAGNOSTICS
        )
        return table.get(self.diagnostic, f"diagnostic{int_text(self.diagnostic)}")

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
            "result_code": json_value(self.result),
            "result_source_diagnostic": self.diagnostic_source,
            "diagnostic": self.diagnostic_name,
            "diagnostic_code": json_value(self.diagnostic),
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


@dataclass(frozen=True, slots=True, repr=False)
class _Release(SafeRepr):
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
        return {"pdu": self.kind, "reason": json_value(self.reason)}


@dataclass(frozen=True, slots=True, repr=False)
class ReleaseRequest(_Release):
    """A-RELEASE request (either side ends the association politely)."""

    kind: ClassVar[str] = "rlrq"
    asn1_type: ClassVar[str] = "RLRQ-apdu"


@dataclass(frozen=True, slots=True, repr=False)
class ReleaseResponse(_Release):
    """A-RELEASE response."""

    kind: ClassVar[str] = "rlre"
    asn1_type: ClassVar[str] = "RLRE-apdu"


@dataclass(frozen=True, slots=True, repr=False)
class Abort(SafeRepr):
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
        return {
            "pdu": self.kind,
            "abort_source": source,
            "abort_diagnostic": json_value(self.diagnostic),
        }


def masked(data: bytes) -> bytes:
    """A copy of a PDU with its login (if any) overwritten, for error messages."""
    masked = bytearray(data)
    for start, end in credential_spans(data):
        masked[start:end] = b"*" * (end - start)
    return bytes(masked)


type AcsePdu = Aarq | Aare | ReleaseRequest | ReleaseResponse | Abort


def decode_acse(kind: str, data: bytes) -> AcsePdu:
    """Decode an ACSE PDU of the given kind."""
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
