"""The library's exception tree; decoders and clients raise only these."""

from __future__ import annotations

from enum import StrEnum

#: How many offending bytes an error message quotes; peers may send kilobytes.
MAX_QUOTED_BYTES = 32


class PbxError(Exception):
    """Base class of every error this library raises."""


class ConnectionFailed(PbxError):
    """The PBX could not be reached, or the link to it broke."""


class ConnectionClosed(ConnectionFailed):
    """The link was closed while an operation was waiting on it."""


class UnexpectedError(ConnectionFailed):
    """Connecting failed on something unforeseen (a bug, most likely); the log has details.

    Raised instead of the original exception (its ``__cause__``) so that callers only ever
    see the library's own errors, and so that retrying stays possible.
    """


class AuthenticationFailed(PbxError):
    """The PBX rejected the credentials; retrying will not help until they change."""


class ProtocolError(PbxError):
    """Bytes from the wire could not be understood.

    ``offset`` is where in ``data`` the problem was found, when known.
    """

    def __init__(self, message: str, *, data: bytes = b"", offset: int | None = None) -> None:
        self.message = message
        self.data = bytes(data)
        self.offset = offset
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f" at offset {self.offset}" if self.offset is not None else ""
        if not self.data:
            return f"{self.message}{where}"
        quoted = self.data[:MAX_QUOTED_BYTES].hex(" ")
        more = " ..." if len(self.data) > MAX_QUOTED_BYTES else ""
        return f"{self.message}{where} (data: {quoted}{more})"


class IncompleteFrame(ProtocolError):
    """More bytes are needed before the frame can be decoded."""


class DiscoveryFailed(PbxError):
    """The PBX named no extensions to monitor, and none were configured."""


class Refusal(StrEnum):
    """Why a PBX refused (or a call failed), in terms a person can be told.

    Every stack maps its own error codes onto these; the vendor's code stays in
    :attr:`CommandRejected.reason` for the log.
    """

    #: The extension acting is in no state to do it (on another call, off the hook).
    EXTENSION_BUSY = "extension_busy"
    #: The extension acting is not one the PBX knows.
    EXTENSION_UNKNOWN = "extension_unknown"
    EXTENSION_OUT_OF_SERVICE = "extension_out_of_service"
    #: The number called (or transferred to) is busy.
    NUMBER_BUSY = "number_busy"
    #: The number called does not exist.
    NUMBER_UNKNOWN = "number_unknown"
    NUMBER_OUT_OF_SERVICE = "number_out_of_service"
    #: The extension may not do this (class of service, barring).
    NOT_ALLOWED = "not_allowed"
    #: The call is gone, or not in a state that allows it.
    NO_CALL = "no_call"
    #: The PBX does not offer this operation.
    NOT_SUPPORTED = "not_supported"
    #: The PBX (or its lines) is too busy right now.
    PBX_BUSY = "pbx_busy"
    #: Nobody answered in time.
    NO_ANSWER = "no_answer"
    OTHER = "other"


class UnsupportedOperation(PbxError):
    """The PBX, or this library's support for it, cannot perform the operation.

    ``action`` names it as :class:`~.model.Capability` does (``dial_digits``), when known.
    """

    def __init__(self, message: str, *, action: str | None = None) -> None:
        self.action = action
        super().__init__(message)


class CommandRejected(PbxError):
    """The PBX answered a request with an error.

    ``reason`` is the vendor's name for the error, e.g. ``stateIncompatibility.noCallToClear``;
    ``refusal`` what it means (for the person who asked).
    """

    def __init__(self, operation: str, reason: str, refusal: Refusal = Refusal.OTHER) -> None:
        self.operation = operation
        self.reason = reason
        self.refusal = refusal
        super().__init__(f"{operation} rejected by the PBX: {reason}")


class RequestTimeout(CommandRejected):
    """The PBX did not answer a request in time."""

    def __init__(self, operation: str, timeout: float) -> None:
        super().__init__(operation, f"no answer within {timeout:g} s", Refusal.NO_ANSWER)
        self.timeout = timeout


class InvalidInput(PbxError, ValueError):
    """A caller passed a value the PBX cannot accept (for example a malformed number)."""


class NoMatchingCall(PbxError):
    """The extension has no call in the state the operation needs (nothing to answer, ...).

    ``extension`` and ``action`` (as :class:`~.model.Capability` names it) say which.
    """

    def __init__(self, message: str, *, extension: str, action: str) -> None:
        self.extension = extension
        self.action = action
        super().__init__(message)
