"""AlphaCom-class application messages: one frozen dataclass per message id with a known layout.

Each class lists its parameters' wire types in ``LAYOUT`` (in field order); the fields after
the first ``REQUIRED`` ones are optional and may be absent from the end of a message, as
newer firmware adds parameters at the end. A message whose id has no class here, or whose
parameters do not fit its class, decodes to :class:`UnknownMessage` with the raw bytes.

Layouts marked unverified below come from the notes' inferences, not from a message page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final, cast

from ..core.errors import InvalidInput, ProtocolError
from .datatypes import Clock, NetObjRef, ParameterReader, check_uint, encode_text16

#: Wire types of parameters, as LAYOUT names them.
_READERS: Final[dict[str, Callable[[ParameterReader, str], Any]]] = {
    "u1": ParameterReader.uint1,
    "s1": ParameterReader.sint1,
    "u2": ParameterReader.uint2,
    "u4": ParameterReader.uint4,
    "text16": ParameterReader.text16,
    "clock": ParameterReader.clock,
    "nor": ParameterReader.net_obj_ref,
    "counted": ParameterReader.counted_bytes,
}


def _write(kind: str, value: Any, name: str) -> bytes:  # noqa: ANN401  # per LAYOUT kind
    if kind in ("u1", "u2", "u4"):
        size = {"u1": 1, "u2": 2, "u4": 4}[kind]
        return check_uint(int(value), size, name).to_bytes(size)
    if kind == "s1":
        if not -128 <= value <= 127:
            raise InvalidInput(f"{name} must be between -128 and 127")
        return int(value).to_bytes(1, signed=True)
    if kind == "text16":
        return encode_text16(value)
    if kind in ("clock", "nor"):
        encoded: bytes = value.encode()
        return encoded
    if kind == "counted":
        data = bytes(value)
        check_uint(len(data), 1, f"length of {name}")
        return bytes([len(data)]) + data
    raise AssertionError(kind)


class Message:
    """Base of every application message (AlphaCom class)."""

    __slots__ = ()
    MESSAGE_ID: ClassVar[int]
    NAME: ClassVar[str]
    LAYOUT: ClassVar[tuple[str, ...]] = ()
    REQUIRED: ClassVar[int] = 0

    @property
    def message_id(self) -> int:
        """The message id on the wire."""
        return self.MESSAGE_ID

    @property
    def name(self) -> str:
        """The message's name in Zenitel's documentation."""
        return self.NAME

    def encode_parameters(self) -> bytes:
        """The parameters as bytes; absent optional ones must all be at the end."""
        out = bytearray()
        absent: str | None = None
        for spec, kind in zip(fields(self), self.LAYOUT, strict=True):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if value is None:
                absent = absent or spec.name
                continue
            if absent is not None:
                raise InvalidInput(f"{self.NAME}: {spec.name} needs {absent} before it")
            out += _write(kind, value, spec.name)
        return bytes(out)

    @classmethod
    def decode_parameters(cls, reader: ParameterReader) -> Message:
        """Read the parameters this class knows; optional trailing ones may be missing."""
        values = []
        for index, (spec, kind) in enumerate(zip(fields(cls), cls.LAYOUT, strict=True)):  # type: ignore[arg-type]
            if index >= cls.REQUIRED and reader.at_end:
                break
            values.append(_READERS[kind](reader, f"{cls.NAME} {spec.name}"))
        dataclass_type: Any = cls  # every concrete subclass is a dataclass of LAYOUT's fields
        return cast("Message", dataclass_type(*values))

    def parameters_json(self) -> dict[str, Any]:
        """The parameters by name, as JSON-friendly values."""
        result: dict[str, Any] = {}
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if value is None:
                continue  # an optional parameter the message does not carry
            if isinstance(value, NetObjRef):
                value = value.as_json()
            elif isinstance(value, Clock):
                value = value.isoformat()
            elif isinstance(value, bytes):
                value = value.decode("latin-1")
            result[spec.name] = value
        return result


@dataclass(frozen=True, slots=True)
class UnknownMessage(Message):
    """A message id without a known layout (or parameters that do not fit it): raw bytes."""

    unknown_id: int
    parameters: bytes = b""

    NAME = "UNKNOWN"

    @property
    def message_id(self) -> int:
        """The message id on the wire."""
        return self.unknown_id

    @property
    def name(self) -> str:
        """The documented name of the id if there is one, else its hex."""
        return MESSAGE_NAMES.get(self.unknown_id, f"0x{self.unknown_id:04X}")

    def encode_parameters(self) -> bytes:
        """The raw parameter bytes."""
        return self.parameters

    def parameters_json(self) -> dict[str, Any]:
        """The raw parameters as hex."""
        return {"parameters": self.parameters.hex()}


_REGISTRY: dict[int, type[Message]] = {}


def _register[M: type[Message]](message_class: M) -> M:
    _REGISTRY[message_class.MESSAGE_ID] = message_class
    return message_class


def decode_message(message_id: int, data: bytes, *, base_offset: int = 0) -> tuple[Message, bytes]:
    """Decode parameters of ``message_id``; return the message and the bytes it left unread.

    Never raises: a message that does not fit its class is returned as UnknownMessage.
    """
    message_class = _REGISTRY.get(message_id)
    if message_class is None:
        return UnknownMessage(message_id, data), b""
    reader = ParameterReader(data, base_offset=base_offset)
    try:
        message = message_class.decode_parameters(reader)
    except ProtocolError:
        return UnknownMessage(message_id, data), b""
    return message, reader.rest()


# -- station connect operations -------------------------------------------------------


@_register
@dataclass(frozen=True, slots=True)
class CallSetup(Message):
    """CALL_SETUP ($CALL): a conversation between A and B, as if A dialled B."""

    a: NetObjRef
    b: NetObjRef
    flags: int | None = None
    a_priority: int | None = None
    b_priority: int | None = None
    b_station: NetObjRef | None = None

    MESSAGE_ID = 0x0008
    NAME = "CALL_SETUP"
    LAYOUT = ("nor", "nor", "u2", "u1", "u1", "nor")
    REQUIRED = 2


#: CALL_SETUP flag: answer with CONN_REFERENCE/STATION_BUSY/STATION_DOWN, send DISCONNECTED.
CSF_RETURN_ACK: Final = 1
#: CALL_SETUP flag: the client must answer CONN_REF_ACK and DISCONNECTED_ACK.
CSF_3WAY_ACK: Final = 2


@_register
@dataclass(frozen=True, slots=True)
class ConnRequest(Message):
    """CONN_REQUEST ($CONN), kept by the exchange for compatibility (the 07.60 layout)."""

    a: NetObjRef
    b: NetObjRef
    a_priority: int | None = None
    b_priority: int | None = None
    acks: int | None = None

    MESSAGE_ID = 0x000A
    NAME = "CONN_REQUEST"
    LAYOUT = ("nor", "nor", "u1", "u1", "u1")
    REQUIRED = 2


@_register
@dataclass(frozen=True, slots=True)
class ConnReference(Message):
    """CONN_REFERENCE: the call is set up. Its UINT2 connection reference is unverified."""

    connection: int | None = None

    MESSAGE_ID = 0x000B
    NAME = "CONN_REFERENCE"
    LAYOUT = ("u2",)


@_register
@dataclass(frozen=True, slots=True)
class StationDown(Message):
    """STATION_DOWN: a party is out of order. The station parameter is unverified."""

    station: NetObjRef | None = None

    MESSAGE_ID = 0x000C
    NAME = "STATION_DOWN"
    LAYOUT = ("nor",)


@_register
@dataclass(frozen=True, slots=True)
class StationBusy(Message):
    """STATION_BUSY: the party called is busy."""

    station: NetObjRef | None = None

    MESSAGE_ID = 0x000D
    NAME = "STATION_BUSY"
    LAYOUT = ("nor",)


@_register
@dataclass(frozen=True, slots=True)
class ConnRefAck(Message):
    """CONN_REF_ACK: the client confirms a CONN_REFERENCE (within 10 s)."""

    connection: int

    MESSAGE_ID = 0x000E
    NAME = "CONN_REF_ACK"
    LAYOUT = ("u2",)
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class Disconnected(Message):
    """DISCONNECTED: a conversation the client set up has ended."""

    connection: int

    MESSAGE_ID = 0x000F
    NAME = "DISCONNECTED"
    LAYOUT = ("u2",)
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class DisconnectedAck(Message):
    """DISCONNECTED_ACK. Its connection parameter is unverified."""

    connection: int | None = None

    MESSAGE_ID = 0x0010
    NAME = "DISCONNECTED_ACK"
    LAYOUT = ("u2",)


@_register
@dataclass(frozen=True, slots=True)
class IllegalParam(Message):
    """ILLEGAL_PARAM: the exchange could not accept a message (sent instead of its answer)."""

    failed_id: int
    parameter: int | None = None
    value: int | None = None

    MESSAGE_ID = 0x0023
    NAME = "ILLEGAL_PARAM"
    LAYOUT = ("u2", "u1", "u4")
    REQUIRED = 1


# -- mail -----------------------------------------------------------------------------


@_register
@dataclass(frozen=True, slots=True)
class ExtMail(Message):
    """EXT_MAIL: one mail of a queue."""

    receiver: NetObjRef
    sender: NetObjRef | None = None
    mail: NetObjRef | None = None
    extra: NetObjRef | None = None
    tag: int | None = None
    priority: int | None = None
    text: str | None = None

    MESSAGE_ID = 0x0030
    NAME = "EXT_MAIL"
    LAYOUT = ("nor", "nor", "nor", "nor", "u2", "u1", "text16")
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class SendMail(Message):
    """SEND_MAIL ($SM): a mail (mail individ 17/18 is a call request) to a station."""

    sender: NetObjRef
    receiver: NetObjRef
    priority: int | None = None
    mail: NetObjRef | None = None
    extra: NetObjRef | None = None
    flags: int | None = None
    sender_name: str | None = None
    udp: int | None = None
    hop_count: int | None = None

    MESSAGE_ID = 0x0031
    NAME = "SEND_MAIL"
    LAYOUT = ("nor", "nor", "u1", "nor", "nor", "u1", "text16", "u1", "u1")
    REQUIRED = 2


@_register
@dataclass(frozen=True, slots=True)
class SendTxtMail(Message):
    """SEND_TXT_MAIL ($STM): a text mail; flag 1 makes it a call request."""

    sender: NetObjRef
    receiver: NetObjRef
    priority: int
    text: str
    flags: int | None = None
    sender_name: str | None = None
    udp: int | None = None
    hop_count: int | None = None

    MESSAGE_ID = 0x0032
    NAME = "SEND_TXT_MAIL"
    LAYOUT = ("nor", "nor", "u1", "text16", "u1", "text16", "u1", "u1")
    REQUIRED = 4


#: SEND_TXT_MAIL flag: the mail asks the receiver to call back.
MAIL_FLAG_CALL_REQUEST: Final = 1


# -- station state broadcasts ----------------------------------------------------------


@_register
@dataclass(frozen=True, slots=True)
class StBusyBc(Message):
    """ST_BUSY_BC: an intercom station became busy."""

    station: NetObjRef

    MESSAGE_ID = 0x0036
    NAME = "ST_BUSY_BC"
    LAYOUT = ("nor",)
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class StFreeBc(Message):
    """ST_FREE_BC: an intercom station became free."""

    station: NetObjRef

    MESSAGE_ID = 0x0037
    NAME = "ST_FREE_BC"
    LAYOUT = ("nor",)
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class DeviceInfo(Message):
    """DEVICE_INFO: what a device is (the answer to GET_DEVICE)."""

    device_type: int
    sw_major: int | None = None
    sw_minor: int | None = None
    abilities: int | None = None
    device_name: str | None = None
    state_version: int | None = None
    sw_revision: int | None = None
    system_states: int | None = None

    MESSAGE_ID = 0x003B
    NAME = "DEVICE_INFO"
    LAYOUT = ("u1", "u1", "u1", "u1", "text16", "u1", "u1", "u2")
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class Pong(Message):
    """PONG: the answer to a PING (the exchange's own fields are all optional)."""

    device_flags: int | None = None
    sw_major: int | None = None
    sw_minor: int | None = None
    abilities: int | None = None
    error_counter: int | None = None

    MESSAGE_ID = 0x003D
    NAME = "PONG"
    LAYOUT = ("u1", "u1", "u1", "u1", "u2")


@_register
@dataclass(frozen=True, slots=True)
class CallStatusBc(Message):
    """CALL_STATUS_BC: A calls B (may come more than once per call attempt)."""

    time: Clock
    a: NetObjRef
    b: NetObjRef
    priority: int | None = None
    call_mode: int | None = None

    MESSAGE_ID = 0x0040
    NAME = "CALL_STATUS_BC"
    LAYOUT = ("clock", "nor", "nor", "u1", "u1")
    REQUIRED = 3


#: CALL_STATUS_BC call modes.
CALL_MODE_NO_ACCESS: Final = 0
CALL_MODE_OPEN: Final = 1
CALL_MODE_PRIVATE: Final = 2
CALL_MODE_BUSY: Final = 3


@_register
@dataclass(frozen=True, slots=True)
class ConnStatusBc(Message):
    """CONN_STATUS_BC: A and B are connected.

    The layout is derived from the one real broadcast seen: CLOCK, two bytes, A, B. That
    the two bytes are the connection reference DISCON_STATUS_BC names is unverified.
    """

    time: Clock
    connection: int
    a: NetObjRef
    b: NetObjRef

    MESSAGE_ID = 0x0041
    NAME = "CONN_STATUS_BC"
    LAYOUT = ("clock", "u2", "nor", "nor")
    REQUIRED = 4


@_register
@dataclass(frozen=True, slots=True)
class DisconStatusBc(Message):
    """DISCON_STATUS_BC: a connection ended (A and B are sent from AMC 10.30)."""

    time: Clock
    connection: int
    a: NetObjRef | None = None
    b: NetObjRef | None = None

    MESSAGE_ID = 0x0042
    NAME = "DISCON_STATUS_BC"
    LAYOUT = ("clock", "u2", "nor", "nor")
    REQUIRED = 2


@_register
@dataclass(frozen=True, slots=True)
class QElemAdded(Message):
    """Q_ELEM_ADDED: a mail was queued at a station (mail individ 17/18: a call request)."""

    time: Clock
    queue: NetObjRef
    tag: int | None = None
    priority: int | None = None
    position: int | None = None
    length: int | None = None
    checksum: int | None = None
    mail: NetObjRef | None = None
    sender: NetObjRef | None = None
    extra: NetObjRef | None = None
    text: str | None = None

    MESSAGE_ID = 0x004B
    NAME = "Q_ELEM_ADDED"
    LAYOUT = ("clock", "nor", "u2", "u1", "u2", "u2", "u2", "nor", "nor", "nor", "text16")
    REQUIRED = 2


# -- station keyboard and display emulation --------------------------------------------


@_register
@dataclass(frozen=True, slots=True)
class DialDigits(Message):
    """DIAL_DIGITS ($DD): the station dials the digits."""

    station: NetObjRef
    digits: NetObjRef

    MESSAGE_ID = 0x0050
    NAME = "DIAL_DIGITS"
    LAYOUT = ("nor", "nor")
    REQUIRED = 2


@dataclass(frozen=True, slots=True)
class _StationOrder(Message):
    """An order to one station. That it takes a single NET_OBJ_REF is unverified."""

    station: NetObjRef

    LAYOUT = ("nor",)
    REQUIRED = 1


def _station_order(message_id: int, name: str, doc: str) -> type[_StationOrder]:
    order = cast(
        "type[_StationOrder]",
        type(name.title().replace("_", ""), (_StationOrder,), {"__slots__": ()}),
    )
    order.MESSAGE_ID = message_id
    order.NAME = name
    order.__doc__ = doc
    return _register(order)


MKey: Final = _station_order(0x0054, "M_KEY", "M_KEY ($M): the station presses its M key.")
MKeyRelease: Final = _station_order(0x0055, "M_KEY_RELEASE", "M_KEY_RELEASE ($MREL).")
HandsetOff: Final = _station_order(0x0056, "HANDSET_OFF", "HANDSET_OFF ($HOFF): lift handset.")
HandsetOn: Final = _station_order(0x0057, "HANDSET_ON", "HANDSET_ON ($HON): replace handset.")
CKey: Final = _station_order(0x0058, "C_KEY", "C_KEY ($C): the station presses its C key.")
ParkInqBroker: Final = _station_order(
    0x0086, "PARK_INQ_BROKER", "PARK_INQ_BROKER ($INQ): park the peer, start an inquiry."
)
DisconSt: Final = _station_order(
    0x008E, "DISCON_ST", "DISCON_ST: disconnect the station from its ongoing feature."
)


@_register
@dataclass(frozen=True, slots=True)
class DisplayText(Message):
    """DISPLAY_TEXT ($DSPL): text (and TouchLine control codes) for a station's display."""

    station: NetObjRef
    text: bytes

    MESSAGE_ID = 0x005A
    NAME = "DISPLAY_TEXT"
    LAYOUT = ("nor", "counted")
    REQUIRED = 2


@_register
@dataclass(frozen=True, slots=True)
class CommandResponse(Message):
    """COMMAND_RESPONSE: the generic answer to a command (AMC 07.00 and later)."""

    answered_id: int
    status: int
    options: int | None = None

    MESSAGE_ID = 0x0066
    NAME = "COMMAND_RESPONSE"
    LAYOUT = ("u2", "u1", "u4")
    REQUIRED = 2


#: COMMAND_RESPONSE status of success.
COMMAND_OK: Final = 1


@_register
@dataclass(frozen=True, slots=True)
class ReqTransfCall(Message):
    """REQ_TRANSF_CALL ($TRFC): transfer the call in an inquiry situation to ``destination``."""

    destination: NetObjRef
    a_station: NetObjRef | None = None
    flag: int | None = None
    sender_node: int | None = None
    sender_device: int | None = None

    MESSAGE_ID = 0x0088
    NAME = "REQ_TRANSF_CALL"
    LAYOUT = ("nor", "nor", "u1", "u1", "u1")
    REQUIRED = 1


@_register
@dataclass(frozen=True, slots=True)
class DtmfConn(Message):
    """DTMF_CONN: a DTMF tone on the station's connection."""

    station: NetObjRef
    dtmf: int
    length: int | None = None

    MESSAGE_ID = 0x0097
    NAME = "DTMF_CONN"
    LAYOUT = ("nor", "u1", "u1")
    REQUIRED = 2


GET_DEVICE_ID: Final = 0x003A
"""Message id of GET_DEVICE, which DEVICE_INFO answers. Unverified: no source names the id;
0x003A (just before DEVICE_INFO 0x003B) is a guess. The client only uses it as a probe whose
silence is not an error."""

PING_ID: Final = 0x003C
"""Message id of PING, which the exchange sends its devices every 40 s. Unverified: 0x003C,
just before PONG 0x003D, is a guess; a client answers it with PONG."""


#: Documented names of ids without a layout here (Zenitel's message tables).
MESSAGE_NAMES: Final[dict[int, str]] = {
    **{message_id: cls.NAME for message_id, cls in _REGISTRY.items()},
    0x0001: "PROGRAM",
    0x0004: "PROG_CONF",
    0x0007: "ALARM_MSG",
    0x0011: "DISC_REQ",
    0x0012: "DISC_REQ_ACK",
    0x0034: "DELETE_MAIL",
    0x0035: "DELETE_MAIL_ACK",
    GET_DEVICE_ID: "GET_DEVICE",
    PING_ID: "PING",
    0x003E: "RESOURCE_BUSY",
    0x003F: "NO_ACCESS",
    0x0043: "EXT_FEATURE_BC",
    0x004C: "Q_ELEM_REMOVED",
    0x004F: "EXECUTE_COMMAND",
    0x0051: "SINGLE_DIGIT",
    0x0052: "DIGIT_RELEASE",
    0x0080: "NAME_EXTENSION",
    0x0087: "UNPARK",
    0x0094: "DIAL_DAK",
    0x009C: "PLAY_DAK",
}

#: Negative answers to a call set-up whose layout is not known (matched by id only).
RESOURCE_BUSY_ID: Final = 0x003E
NO_ACCESS_ID: Final = 0x003F


def registered_classes() -> list[type[Message]]:
    """Every message class with a layout (for tests and documentation)."""
    return list(_REGISTRY.values())
