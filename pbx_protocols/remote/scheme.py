"""The MQTT topic and payload scheme of a bridged PBX (version 1).

Every payload is a JSON object with ``"v": 1``; one JSON Schema per payload kind ships in
``schemas/``. Under ``<prefix>/<site>/`` (prefix ``pbx``):

- ``status`` (retained): the bridge ``online``/``offline`` (its last will) and ``link``,
  the PBX link's state;
- ``info`` (retained): what the PBX is and what it can do;
- ``extension/<number>`` (retained): one extension's line and calls;
- ``extension/<number>/event`` and ``event`` (QoS 1): every call event, per extension and
  for the whole site;
- ``record`` (QoS 1): call detail records;
- ``command/<action>`` -> ``response/<id>``: call control, answered by request id;
- ``discovery`` (retained, written by a consumer): ``{"enabled": false}`` asks the bridge
  to withdraw its Home Assistant discovery (the ``pbx`` integration reaches the site
  itself); an empty message or ``true`` brings it back.

Numbers and texts in commands are checked by the library's own rules before anything
reaches the PBX; a command that is not valid JSON or names no known action gets an error
response (when it carries an id) and is otherwise dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, overload

from ..core.calls import MAX_CALLS_PER_EXTENSION
from ..core.errors import InvalidInput, ProtocolError, Refusal
from ..core.model import (
    CallEvent,
    CallEventKind,
    CallInfo,
    CallRecord,
    CallState,
    Capability,
    ConnectionState,
    Direction,
    ExtensionSnapshot,
    LineState,
    PbxInfo,
)

SCHEME_VERSION: Final = 1
DEFAULT_PREFIX: Final = "pbx"
#: Site names become one topic level: no wildcards, no separators.
SITE_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Request ids come back as one topic level too.
REQUEST_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: Largest payload read from the broker; every payload of the scheme is far smaller.
MAX_PAYLOAD: Final = 64 * 1024
#: Longest text field read (numbers, names, call ids); longer ones mark a bad payload.
MAX_TEXT: Final = 256
#: Extensions a site may announce; the largest PBXs have a few thousand.
MAX_SITE_EXTENSIONS: Final = 10_000
#: Command actions and the fields each takes besides ``extension`` (``?``: optional).
ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    Capability.MAKE_CALL: ("number",),
    Capability.ANSWER_CALL: ("call_id?",),
    Capability.HANG_UP: ("call_id?",),
    Capability.HOLD_CALL: ("call_id?",),
    Capability.RETRIEVE_CALL: ("call_id?",),
    Capability.TRANSFER_CALL: ("number", "call_id?"),
    Capability.DIAL_DIGITS: ("digits", "call_id?"),
    Capability.DISPLAY_TEXT: ("text",),
    Capability.SEND_MESSAGE: ("text",),
}


def check_site(site: str) -> str:
    """Return ``site`` if it can be a topic level, else raise InvalidInput."""
    if not SITE_NAME.fullmatch(site):
        raise InvalidInput(f"site name {site!r}: use letters, digits, _ and - (up to 64)")
    return site


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one site."""

    site: str
    prefix: str = DEFAULT_PREFIX

    @property
    def base(self) -> str:
        """``<prefix>/<site>``."""
        return f"{self.prefix}/{self.site}"

    @property
    def status(self) -> str:
        """Bridge and PBX link state (retained; the bridge's last will)."""
        return f"{self.base}/status"

    @property
    def info(self) -> str:
        """What the PBX is (retained)."""
        return f"{self.base}/info"

    def extension(self, number: str) -> str:
        """One extension's snapshot (retained)."""
        return f"{self.base}/extension/{number}"

    def extension_event(self, number: str) -> str:
        """One extension's call events."""
        return f"{self.base}/extension/{number}/event"

    @property
    def extensions(self) -> str:
        """Filter for every extension's snapshot."""
        return f"{self.base}/extension/+"

    @property
    def event(self) -> str:
        """Every call event of the site."""
        return f"{self.base}/event"

    @property
    def record(self) -> str:
        """Call detail records."""
        return f"{self.base}/record"

    def command(self, action: str) -> str:
        """Where a command for ``action`` is published."""
        return f"{self.base}/command/{action}"

    @property
    def commands(self) -> str:
        """Filter for every command."""
        return f"{self.base}/command/+"

    def response(self, request_id: str) -> str:
        """Where the answer to a request is published."""
        return f"{self.base}/response/{request_id}"

    @property
    def discovery(self) -> str:
        """Whether the bridge announces the site to Home Assistant (retained, by a consumer)."""
        return f"{self.base}/discovery"

    @property
    def responses(self) -> str:
        """Filter for every response."""
        return f"{self.base}/response/+"

    def number_of(self, topic: str) -> str | None:
        """The extension number in an extension snapshot topic, if it is one."""
        head = f"{self.base}/extension/"
        rest = topic.removeprefix(head)
        return rest if rest != topic and rest and "/" not in rest else None


def encode(payload: dict[str, Any]) -> bytes:
    """A payload as it goes on the wire."""
    return json.dumps({"v": SCHEME_VERSION, **payload}, separators=(",", ":")).encode()


def decode(data: bytes) -> dict[str, Any]:
    """A payload from the wire; raise ProtocolError unless it is a JSON object of our version."""
    if len(data) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(data)} bytes is larger than {MAX_PAYLOAD}")
    try:
        payload = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise ProtocolError(f"not JSON: {err}", data=data) from err
    if not isinstance(payload, dict):
        raise ProtocolError("not a JSON object", data=data)
    if payload.get("v") != SCHEME_VERSION:
        raise ProtocolError(f"scheme version {payload.get('v')!r}, expected {SCHEME_VERSION}")
    return payload


def _no_constant(name: str) -> None:
    """JSON has no NaN or Infinity; Python's reader would accept them."""
    raise ValueError(f"{name} is not JSON")


# -- what the bridge publishes -------------------------------------------------------------


def status_payload(online: bool, link: ConnectionState) -> dict[str, Any]:
    """``status``: the bridge and the PBX link."""
    return {"state": "online" if online else "offline", "link": link.value}


def discovery_payload(enabled: bool) -> dict[str, Any]:
    """``discovery``: whether the bridge should announce the site to Home Assistant."""
    return {"v": SCHEME_VERSION, "enabled": enabled}


def discovery_wanted(data: bytes) -> bool:
    """Read a ``discovery`` message (empty: the bridge's default, on); raise ProtocolError."""
    if not data:
        return True
    enabled = decode(data).get("enabled")
    if not isinstance(enabled, bool):
        raise ProtocolError("discovery: 'enabled' must be true or false")
    return enabled


def info_payload(
    info: PbxInfo, capabilities: frozenset[Capability], text: int, extensions: list[str]
) -> dict[str, Any]:
    """``info``: identity, capabilities and which extensions there are."""
    return {
        "vendor": info.vendor,
        "model": info.model,
        "unique_id": info.unique_id,
        "name": info.name,
        "firmware": info.firmware,
        "capabilities": sorted(capability.value for capability in capabilities),
        "max_text_length": text,
        "extensions": extensions,
    }


def extension_payload(snapshot: ExtensionSnapshot) -> dict[str, Any]:
    """``extension/<number>``: the line, the current call, every call."""
    call = snapshot.current_call
    return {
        "number": snapshot.number,
        "name": snapshot.name,
        "state": snapshot.line_state.value,
        "monitored": snapshot.monitored,
        "caller": call.calling if call else None,
        "called": call.called if call else None,
        "peer": call.peer if call else None,
        "direction": call.direction.value if call and call.direction else None,
        "call_id": call.call_id if call else None,
        "active_calls": len(snapshot.calls),
        "calls": [_call(item) for item in snapshot.calls],
    }


def _call(call: CallInfo) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "state": call.state.value,
        "direction": call.direction.value if call.direction else None,
        "calling": call.calling,
        "called": call.called,
        "peer": call.peer,
        "answered": call.answered,
    }


def event_payload(event: CallEvent) -> dict[str, Any]:
    """``event``: a call event, as ``CallEvent.as_dict`` has it."""
    return event.as_dict()


def record_payload(record: CallRecord) -> dict[str, Any]:
    """``record``: a call detail record, as ``CallRecord.as_dict`` has it."""
    return record.as_dict()


def response_payload(request_id: str, error: BaseException | None = None) -> dict[str, Any]:
    """``response/<id>``: success, or the library's typed error and its message."""
    if error is None:
        return {"id": request_id, "ok": True}
    detail: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    refusal = getattr(error, "refusal", None)
    if refusal is not None:
        detail["refusal"] = str(refusal)
    for name in ("reason", "action", "extension"):
        if (value := getattr(error, name, None)) is not None:
            detail[name] = value
    return {"id": request_id, "ok": False, "error": detail}


# -- what a remote client reads -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A command from the broker, checked for shape (the library checks the values)."""

    request_id: str
    action: Capability
    extension: str
    arguments: dict[str, str]


def parse_command(action: str, payload: dict[str, Any]) -> Command:
    """Read a command payload; raise InvalidInput naming what is wrong."""
    request_id = payload.get("id")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise InvalidInput("the command has no usable id (letters, digits and _.:- only)")
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    extension = payload.get("extension")
    if not isinstance(extension, str) or not extension:
        raise InvalidInput("the command names no extension")
    arguments: dict[str, str] = {}
    for field in ACTIONS[action]:
        name = field.rstrip("?")
        value = payload.get(name)
        if value is None and field.endswith("?"):
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{action} needs {name!r} as a string")
        arguments[name] = value
    return Command(request_id, Capability(action), extension, arguments)


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What an ``info`` payload says."""

    info: PbxInfo
    capabilities: frozenset[Capability]
    max_text_length: int
    extensions: list[str]


def info_from(payload: dict[str, Any], fallback_name: str) -> SiteInfo:
    """A site's info from its payload; raise ProtocolError if malformed."""
    try:
        capabilities = payload["capabilities"]
        extensions = payload.get("extensions") or []
        text = payload.get("max_text_length") or 0
        if not isinstance(capabilities, list) or not isinstance(extensions, list):
            raise TypeError("'capabilities' and 'extensions' must be lists")
        if len(extensions) > MAX_SITE_EXTENSIONS:
            raise ValueError(f"more than {MAX_SITE_EXTENSIONS} extensions")
        if isinstance(text, bool) or not isinstance(text, int) or not 0 <= text <= MAX_TEXT:
            raise TypeError(f"'max_text_length' must be a whole number up to {MAX_TEXT}")
        known = {capability.value for capability in Capability}
        return SiteInfo(
            info=PbxInfo(
                vendor=_text(payload, "vendor", required=True),
                model=_text(payload, "model", required=True),
                unique_id=_text(payload, "unique_id", required=True),
                name=_text(payload, "name") or fallback_name,
                firmware=_text(payload, "firmware"),
            ),
            capabilities=frozenset(Capability(c) for c in capabilities if c in known),
            max_text_length=text,
            extensions=[_text({"n": number}, "n", required=True) for number in extensions],
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ProtocolError(f"malformed info payload: {err!r}") from err


def snapshot_from(payload: dict[str, Any]) -> ExtensionSnapshot:
    """An extension snapshot from its payload; raise ProtocolError if malformed."""
    items = payload.get("calls")
    if not isinstance(items, list) or len(items) > MAX_CALLS_PER_EXTENSION:
        raise ProtocolError(f"extension payload: 'calls' must list up to {MAX_CALLS_PER_EXTENSION}")
    try:
        calls = tuple(
            CallInfo(
                call_id=_text(item, "call_id", required=True),
                state=CallState(item["state"]),
                direction=_direction(item),
                calling=_text(item, "calling"),
                called=_text(item, "called"),
                peer=_text(item, "peer"),
                answered=item.get("answered") is True,
            )
            for item in items
        )
        return ExtensionSnapshot(
            number=_text(payload, "number", required=True),
            name=_text(payload, "name"),
            line_state=LineState(payload["state"]),
            calls=calls,
            monitored=payload.get("monitored", True) is not False,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as err:
        raise ProtocolError(f"malformed extension payload: {err!r}") from err


def event_from(payload: dict[str, Any]) -> CallEvent:
    """A call event from its payload; raise ProtocolError if malformed."""
    try:
        return CallEvent(
            extension=_text(payload, "extension", required=True),
            kind=CallEventKind(payload["event"]),
            line_state=LineState(payload["state"]),
            timestamp=_when(payload, "timestamp", required=True),
            call_id=_text(payload, "call_id"),
            direction=_direction(payload),
            calling=_text(payload, "calling"),
            called=_text(payload, "called"),
            peer=_text(payload, "peer"),
            failure=Refusal(payload["failure"]) if payload.get("failure") else None,
            vendor=_vendor(payload),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ProtocolError(f"malformed event payload: {err!r}") from err


def record_from(payload: dict[str, Any]) -> CallRecord:
    """A call record from its payload; raise ProtocolError if malformed."""
    try:
        duration = payload.get("duration")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float)
        ):
            raise TypeError("duration must be a number")
        return CallRecord(
            timestamp=_when(payload, "timestamp", required=True),
            extension=_text(payload, "extension"),
            calling=_text(payload, "calling"),
            called=_text(payload, "called"),
            direction=_direction(payload),
            trunk=_text(payload, "trunk"),
            started=_when(payload, "started"),
            answered=_when(payload, "answered"),
            ended=_when(payload, "ended"),
            duration=float(duration) if duration is not None else None,
            condition=_text(payload, "condition"),
            vendor=_vendor(payload),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ProtocolError(f"malformed record payload: {err!r}") from err


# -- reading fields as their types, whatever a peer put there --------------------------------


@overload
def _text(payload: dict[str, Any], key: str, *, required: Literal[True]) -> str: ...
@overload
def _text(payload: dict[str, Any], key: str, *, required: bool = False) -> str | None: ...
def _text(payload: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise TypeError(f"{key!r} must be a string of up to {MAX_TEXT} characters")
    return value


@overload
def _when(payload: dict[str, Any], key: str, *, required: Literal[True]) -> datetime: ...
@overload
def _when(payload: dict[str, Any], key: str, *, required: bool = False) -> datetime | None: ...
def _when(payload: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
    text = _text(payload, key, required=required)
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    # A time without a zone is taken as UTC, as the bridge writes them.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _direction(payload: dict[str, Any]) -> Direction | None:
    value = payload.get("direction")
    return Direction(value) if value else None


def _vendor(payload: dict[str, Any]) -> dict[str, Any]:
    vendor = payload.get("vendor") or {}
    if not isinstance(vendor, dict):
        raise TypeError("'vendor' must be an object")
    return vendor
