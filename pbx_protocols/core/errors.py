"""The library's exception tree; decoders and clients raise only these."""

from __future__ import annotations

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


class UnsupportedOperation(PbxError):
    """The PBX, or this library's support for it, cannot perform the operation."""


class CommandRejected(PbxError):
    """The PBX answered a request with an error.

    ``reason`` is the vendor's name for the error, e.g. ``stateIncompatibility.noCallToClear``.
    """

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"{operation} rejected by the PBX: {reason}")


class RequestTimeout(CommandRejected):
    """The PBX did not answer a request in time."""

    def __init__(self, operation: str, timeout: float) -> None:
        super().__init__(operation, f"no answer within {timeout:g} s")
        self.timeout = timeout


class InvalidInput(PbxError, ValueError):
    """A caller passed a value the PBX cannot accept (for example a malformed number)."""


class NoMatchingCall(PbxError):
    """The extension has no call in the state the operation needs (nothing to answer, ...)."""
