"""Panasonic call detail records (CSTA cDRReport) as vendor-neutral call records.

Field meanings follow ECMA-285 CSTA-call-detail-record; how a Panasonic PBX fills them is
known only from LinTcMon, an open-source client used with real PBXs: it reads the calling
and called device, the trunk as the associated calling or called device, the end time,
the duration in tenths of a second, and the KME condition code from the private data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from ..core.errors import ProtocolError
from ..core.model import CallRecord, Direction
from ..core.render import int_text, safe_repr
from .codec import Asn1Value
from .devices import subject_number

CDR_DURATION_UNIT: Final = 0.1
"""Seconds per unit of connectionDuration.

Unverified: LinTcMon divides the value by ten to store seconds; ECMA-285 does not say.
"""

CDR_START_IS_CREATION_TIME: Final = True
"""Without a connectionStart, recordCreationTime is taken as the call's start.

Unverified: LinTcMon stores recordCreationTime as the call's start date.
"""

#: Longest conversation a record may report; a longer (or negative) one is not believed.
MAX_CALL_DURATION: Final = timedelta(days=31)

#: kmeCdrConditionCode names as this library reports them.
CONDITIONS: Final = {
    "reverseCharging": "reverse_charging",
    "callTransfer": "transferred",
    "callForwarding": "forwarded",
    "disaTie": "disa_tie",
    "remoteMaintenance": "remote_maintenance",
    "noAnswer": "not_answered",
}


def call_records(report: dict[str, Any], clock: Callable[[], datetime]) -> list[CallRecord]:
    """Translate a CDRReportArgument into call records (one per CDRInformationItem).

    Raises ProtocolError if the report does not have the shape of one.
    """
    try:
        condition = _condition(report.get("extensions"))
        vendor = {"cdr_cross_ref": bytes(report["cdrCrossRefID"]).hex()}
        return [_record(item, condition, vendor, clock()) for item in report["cdrInfo"]]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise ProtocolError(f"unusable call record: {safe_repr(report)}") from err


def _record(
    item: dict[str, Any], condition: str | None, vendor: dict[str, Any], now: datetime
) -> CallRecord:
    calling = subject_number(item.get("callingDevice"))
    called = subject_number(item.get("calledDevice"))
    incoming_trunk = subject_number(item.get("associatedCallingDevice"))
    outgoing_trunk = subject_number(item.get("associatedCalledDevice"))
    if incoming_trunk:
        direction: Direction | None = Direction.INCOMING
        extension = called
    elif outgoing_trunk:
        direction = Direction.OUTGOING
        extension = calling
    else:
        direction, extension = None, calling  # internal: the caller's record
    ended = _time(item.get("connectionEnd"))
    seconds = _duration(item.get("connectionDuration"))
    started = _time(item.get("connectionStart"))
    if started is None and CDR_START_IS_CREATION_TIME:
        started = _time(item.get("recordCreationTime"))
    answered = None
    if ended is not None and seconds and condition != CONDITIONS["noAnswer"]:
        with contextlib.suppress(OverflowError):  # an end time near year 1
            answered = ended - timedelta(seconds=seconds)
    return CallRecord(
        timestamp=now,
        extension=extension,
        calling=calling,
        called=called,
        direction=direction,
        trunk=incoming_trunk or outgoing_trunk,
        started=started,
        answered=answered,
        ended=ended,
        duration=seconds,
        condition=condition,
        vendor=vendor,
    )


def _duration(value: Asn1Value) -> float | None:
    """Seconds of conversation, or None for a value no call can have."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    seconds = value * CDR_DURATION_UNIT
    return seconds if 0 <= seconds <= MAX_CALL_DURATION.total_seconds() else None


def _time(value: Asn1Value) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _condition(extensions: Asn1Value) -> str | None:
    """The KME condition code in a CSTACommonArguments, by our name (raw if unknown)."""
    if not isinstance(extensions, dict):
        return None
    for private in extensions.get("privateData", []):
        if private[0] != "private":
            continue
        kind, data = private[1]
        if kind == "kmeAdditionalData" and data[0] == "conditionCode":
            code = data[1]
            if isinstance(code, str):
                return CONDITIONS.get(code, code)
            return f"condition_{int_text(code)}" if isinstance(code, int) else None
    return None


def condition_extensions(condition: str) -> dict[str, Any]:
    """CSTACommonArguments carrying a KME condition code (our name), for the simulator."""
    code = next(key for key, name in CONDITIONS.items() if name == condition)
    private = ("private", ("kmeAdditionalData", ("conditionCode", code)))
    return {"privateData": [private]}
