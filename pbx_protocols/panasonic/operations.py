"""CSTA operation codes with their argument and result types.

Codes from the ECMA-285 ASN.1 modules (``CODE local: n`` of each OPERATION object), as
published in Wildboar-Software/asn1-typescript-libraries packages/csta/doc.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..core.render import int_text


class Opcode(IntEnum):
    """ECMA-285 operation codes used by this library."""

    ANSWER_CALL = 2
    CLEAR_CALL = 4
    CLEAR_CONNECTION = 5
    CONFERENCE_CALL = 6
    HOLD_CALL = 9
    MAKE_CALL = 10
    RETRIEVE_CALL = 14
    TRANSFER_CALL = 16
    CSTA_EVENT_REPORT = 21
    SINGLE_STEP_TRANSFER_CALL = 50
    ESCAPE = 51
    MONITOR_START = 71
    MONITOR_STOP = 73
    SNAPSHOT_DEVICE = 74
    SYSTEM_STATUS = 211
    CDR_REPORT = 361
    START_CDR_TRANSMISSION = 363


@dataclass(frozen=True, slots=True)
class Operation:
    """One CSTA operation: its ECMA-285 name and the ASN.1 types it carries."""

    code: int
    name: str
    argument: str
    result: str | None


OPERATIONS: dict[int, Operation] = {
    op.code: op
    for op in (
        Operation(Opcode.ANSWER_CALL, "answerCall", "AnswerCallArgument", "NoDataResult"),
        Operation(Opcode.CLEAR_CALL, "clearCall", "ClearCallArgument", "NoDataResult"),
        Operation(
            Opcode.CLEAR_CONNECTION, "clearConnection", "ClearConnectionArgument", "NoDataResult"
        ),
        Operation(Opcode.CONFERENCE_CALL, "conferenceCall", "TwoCallsArgument", "TwoCallsResult"),
        Operation(Opcode.HOLD_CALL, "holdCall", "HoldCallArgument", "NoDataResult"),
        Operation(Opcode.MAKE_CALL, "makeCall", "MakeCallArgument", "MakeCallResult"),
        Operation(Opcode.RETRIEVE_CALL, "retrieveCall", "RetrieveCallArgument", "NoDataResult"),
        Operation(Opcode.TRANSFER_CALL, "transferCall", "TwoCallsArgument", "TwoCallsResult"),
        # ALWAYS RESPONDS FALSE: an event report is never answered.
        Operation(Opcode.CSTA_EVENT_REPORT, "cSTAEventReport", "CSTAEventReportArgument", None),
        Operation(
            Opcode.SINGLE_STEP_TRANSFER_CALL,
            "singleStepTransferCall",
            "SingleStepTransArgument",
            "SingleStepTransResult",
        ),
        Operation(Opcode.ESCAPE, "escape", "EscapeArgument", "NoDataResult"),
        Operation(
            Opcode.MONITOR_START, "monitorStart", "MonitorStartArgument", "MonitorStartResult"
        ),
        Operation(Opcode.MONITOR_STOP, "monitorStop", "MonitorStopArgument", "NoDataResult"),
        Operation(
            Opcode.SNAPSHOT_DEVICE,
            "snapshotDevice",
            "SnapshotDeviceArgument",
            "SnapshotDeviceResult",
        ),
        Operation(Opcode.SYSTEM_STATUS, "systemStatus", "SystemStatusArg", "NoDataResult"),
        Operation(Opcode.CDR_REPORT, "cDRReport", "CDRReportArgument", "NoDataResult"),
        Operation(
            Opcode.START_CDR_TRANSMISSION,
            "startCDRTransmission",
            "StartCDRTransmissionArgument",
            "StartCDRTransmissionResult",
        ),
    )
}

#: ``universalFailure ERROR ::= { PARAMETER UniversalFailure CODE local:1 }`` (ECMA-285
#: CSTA-error-definition).
UNIVERSAL_FAILURE = 1


def operation_type_names() -> set[str]:
    """Every operation's argument and result type, and the universal failure's."""
    names = {"UniversalFailure"}
    for operation in OPERATIONS.values():
        names.add(operation.argument)
        if operation.result is not None:
            names.add(operation.result)
    return names


def operation_name(code: int) -> str:
    """ECMA-285 name of an operation code, or ``operation<code>`` if unknown."""
    operation = OPERATIONS.get(code)
    return operation.name if operation else f"operation{int_text(code)}"


#: Names of the events inside the families this library does not type (ECMA-285
#: CSTA-event-report-definitions), by context tag number.
EVENT_FAMILIES: dict[str, dict[int, str]] = {
    "callAssociatedEvents": dict(
        enumerate(
            (
                "callInformation",
                "charging",
                "digitsGeneratedEvent",
                "telephonyTonesGeneratedEvent",
                "serviceCompletionFailure",
            )
        )
    ),
    "mediaAttachmentEvents": {0: "mediaAttached", 1: "mediaDetached"},
    "physicalDeviceFeatureEvents": dict(
        enumerate(
            (
                "buttonInformation",
                "buttonPress",
                "displayUpdated",
                "hookswitch",
                "lampMode",
                "messageWaiting",
                "microphoneGain",
                "microphoneMute",
                "ringerStatus",
                "speakerMute",
                "speakerVolume",
            )
        )
    ),
    "logicalDeviceFeatureEvents": dict(
        enumerate(
            (
                "agentBusy",
                "agentLoggedOn",
                "agentLoggedOff",
                "agentNotReady",
                "agentReady",
                "agentWorkingAfterCall",
                "autoAnswer",
                "autoWorkMode",
                "callBack",
                "callBackMessage",
                "callerIDStatus",
                "doNotDisturb",
                "forwarding",
                "routeingMode",
                "presenceState",
            )
        )
    ),
    "voiceUnitEvents": {
        0: "play",
        1: "record",
        2: "review",
        3: "stop",
        4: "suspendPlay",
        5: "suspendRecord",
        6: "voiceAttributesChange",
        7: "bookmarkReached",
        8: "completed",
        9: "dtmfDetected",
        10: "emptied",
        11: "interruptionDetected",
        12: "notRecognized",
        13: "recognized",
        14: "silenceTimeoutExpired",
        15: "speechDetected",
        16: "started",
        17: "voiceErrorOccured",
    },
    "vendorSpecEvents": {0: "privateEvent"},
}
