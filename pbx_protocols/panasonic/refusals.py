"""CSTA error codes and call-failure causes, in vendor-neutral terms (:class:`Refusal`).

ECMA-285 names dozens of errors; what a person needs to hear is one of a few things: the
extension is busy, the number does not exist, there is no such call. Codes not listed
here are ``Refusal.OTHER``, with the code itself kept for the log.
"""

from __future__ import annotations

from typing import Final

from ..core.errors import Refusal
from .codec import Asn1Value, Reject, ReturnError

#: universalFailure (category, error) -> refusal; a category alone covers all its errors.
_ERRORS: Final[dict[tuple[str, str | None], Refusal]] = {
    ("stateIncompatibility", "invalidCallingDeviceState"): Refusal.EXTENSION_BUSY,
    ("stateIncompatibility", "invalidDeviceState"): Refusal.EXTENSION_BUSY,
    ("stateIncompatibility", "invalidActiveDeviceState"): Refusal.EXTENSION_BUSY,
    ("stateIncompatibility", "connectedCallExists"): Refusal.EXTENSION_BUSY,
    ("stateIncompatibility", "invalidCalledDeviceState"): Refusal.NUMBER_BUSY,
    ("stateIncompatibility", None): Refusal.NO_CALL,
    ("operation", "invalidCalledDeviceID"): Refusal.NUMBER_UNKNOWN,
    ("operation", "invalidDestination"): Refusal.NUMBER_UNKNOWN,
    ("operation", "invalidDestinationDeviceID"): Refusal.NUMBER_UNKNOWN,
    ("operation", "invalidForwardingDestination"): Refusal.NUMBER_UNKNOWN,
    ("operation", "invalidCallingDeviceID"): Refusal.EXTENSION_UNKNOWN,
    ("operation", "invalidDeviceID"): Refusal.EXTENSION_UNKNOWN,
    ("operation", "objectNotKnown"): Refusal.EXTENSION_UNKNOWN,
    ("operation", "invalidCallID"): Refusal.NO_CALL,
    ("operation", "invalidActiveCallID"): Refusal.NO_CALL,
    ("operation", "invalidHeldCallID"): Refusal.NO_CALL,
    ("operation", "invalidConnectionID"): Refusal.NO_CALL,
    ("operation", "invalidActiveConnectionID"): Refusal.NO_CALL,
    ("operation", "invalidHeldConnectionID"): Refusal.NO_CALL,
    ("operation", "privilegeViolationSpecifiedDevice"): Refusal.NOT_ALLOWED,
    ("operation", "privilegeViolationActiveDevice"): Refusal.NOT_ALLOWED,
    ("operation", "privilegeViolationCalledDevice"): Refusal.NOT_ALLOWED,
    ("operation", "privilegeViolationCallingDevice"): Refusal.NOT_ALLOWED,
    ("operation", "securityViolation"): Refusal.NOT_ALLOWED,
    ("operation", "serviceNotSupported"): Refusal.NOT_SUPPORTED,
    ("operation", "parameterNotSupported"): Refusal.NOT_SUPPORTED,
    ("operation", "invalidFeature"): Refusal.NOT_SUPPORTED,
    ("security", None): Refusal.NOT_ALLOWED,
    ("systemResourceAvailability", "calledDeviceOutOfService"): Refusal.NUMBER_OUT_OF_SERVICE,
    ("systemResourceAvailability", "callingDeviceOutOfService"): Refusal.EXTENSION_OUT_OF_SERVICE,
    ("systemResourceAvailability", "deviceOutOfService"): Refusal.EXTENSION_OUT_OF_SERVICE,
    ("systemResourceAvailability", None): Refusal.PBX_BUSY,
    ("subscribedResourceAvailability", None): Refusal.PBX_BUSY,
    ("performanceManagement", None): Refusal.PBX_BUSY,
}

#: CSTA EventCause of a ``failed`` event -> why the call failed.
_FAILURE_CAUSES: Final[dict[str, Refusal]] = {
    "busy": Refusal.NUMBER_BUSY,
    "busyOverflow": Refusal.NUMBER_BUSY,
    "doNotDisturb": Refusal.NUMBER_BUSY,
    "destNotObtainable": Refusal.NUMBER_UNKNOWN,
    "numberUnallocated": Refusal.NUMBER_UNKNOWN,
    "invalidNumberFormat": Refusal.NUMBER_UNKNOWN,
    "numberChanged": Refusal.NUMBER_UNKNOWN,
    "destOutOfOrder": Refusal.NUMBER_OUT_OF_SERVICE,
    "networkOutOfOrder": Refusal.NUMBER_OUT_OF_SERVICE,
    "callNotAnswered": Refusal.NO_ANSWER,
    "networkCongestion": Refusal.PBX_BUSY,
    "networkNotObtainable": Refusal.PBX_BUSY,
    "trunksBusy": Refusal.PBX_BUSY,
    "blocked": Refusal.NOT_ALLOWED,
    "lockout": Refusal.NOT_ALLOWED,
}


def refusal_of(reply: ReturnError | Reject) -> Refusal:
    """What a ReturnError (CSTA universalFailure) or a ROSE Reject means."""
    if isinstance(reply, Reject):
        return (
            Refusal.NOT_SUPPORTED
            if reply.reason.endswith("unrecognizedOperation")
            else (Refusal.OTHER)
        )
    parameter = reply.parameter
    if not (isinstance(parameter, tuple) and len(parameter) == 2):
        return Refusal.OTHER
    category, error = parameter
    if isinstance(error, str):
        exact = _ERRORS.get((str(category), error))
        if exact is not None:
            return exact
    return _ERRORS.get((str(category), None), Refusal.OTHER)


def failure_of(cause: Asn1Value) -> Refusal | None:
    """Why a call failed, from the cause of a CSTA ``failed`` event."""
    return _FAILURE_CAUSES.get(cause, Refusal.OTHER) if isinstance(cause, str) else None
