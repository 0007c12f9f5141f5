"""AlphaCom-class application messages: one frozen dataclass per message id with a known layout.

Layouts marked unverified below come from the notes' inferences, not from a message page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from .datatypes import Clock, NetObjRef
from .message_base import (
    MESSAGE_NAMES,
    Message,
    UnknownMessage,
    decode_message,
    register,
    registered_classes,
)

__all__ = ["Message", "UnknownMessage", "decode_message", "registered_classes"]


# -- station connect operations -------------------------------------------------------


@register
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


@register
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


@register
@dataclass(frozen=True, slots=True)
class ConnReference(Message):
    """CONN_REFERENCE: the call is set up. Its UINT2 connection reference is unverified."""

    connection: int | None = None

    MESSAGE_ID = 0x000B
    NAME = "CONN_REFERENCE"
    LAYOUT = ("u2",)


@register
@dataclass(frozen=True, slots=True)
class StationDown(Message):
    """STATION_DOWN: a party is out of order. The station parameter is unverified."""

    station: NetObjRef | None = None

    MESSAGE_ID = 0x000C
    NAME = "STATION_DOWN"
    LAYOUT = ("nor",)


@register
@dataclass(frozen=True, slots=True)
class StationBusy(Message):
    """STATION_BUSY: the party called is busy."""

    station: NetObjRef | None = None

    MESSAGE_ID = 0x000D
    NAME = "STATION_BUSY"
    LAYOUT = ("nor",)


@register
@dataclass(frozen=True, slots=True)
class ConnRefAck(Message):
    """CONN_REF_ACK: the client confirms a CONN_REFERENCE (within 10 s)."""

    connection: int

    MESSAGE_ID = 0x000E
    NAME = "CONN_REF_ACK"
    LAYOUT = ("u2",)
    REQUIRED = 1


@register
@dataclass(frozen=True, slots=True)
class Disconnected(Message):
    """DISCONNECTED: a conversation the client set up has ended."""

    connection: int

    MESSAGE_ID = 0x000F
    NAME = "DISCONNECTED"
    LAYOUT = ("u2",)
    REQUIRED = 1


@register
@dataclass(frozen=True, slots=True)
class DisconnectedAck(Message):
    """DISCONNECTED_ACK. Its connection parameter is unverified."""

    connection: int | None = None

    MESSAGE_ID = 0x0010
    NAME = "DISCONNECTED_ACK"
    LAYOUT = ("u2",)


@register
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


@register
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


@register
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


@register
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


@register
@dataclass(frozen=True, slots=True)
class StBusyBc(Message):
    """ST_BUSY_BC: an intercom station became busy."""

    station: NetObjRef

    MESSAGE_ID = 0x0036
    NAME = "ST_BUSY_BC"
    LAYOUT = ("nor",)
    REQUIRED = 1


@register
@dataclass(frozen=True, slots=True)
class StFreeBc(Message):
    """ST_FREE_BC: an intercom station became free."""

    station: NetObjRef

    MESSAGE_ID = 0x0037
    NAME = "ST_FREE_BC"
    LAYOUT = ("nor",)
    REQUIRED = 1


@register
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


@register
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


@register
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


@register
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


@register
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


@register
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


@register
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
    return register(order)


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


@register
@dataclass(frozen=True, slots=True)
class DisplayText(Message):
    """DISPLAY_TEXT ($DSPL): text (and TouchLine control codes) for a station's display."""

    station: NetObjRef
    text: bytes

    MESSAGE_ID = 0x005A
    NAME = "DISPLAY_TEXT"
    LAYOUT = ("nor", "counted")
    REQUIRED = 2


@register
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


@register
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


@register
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


# Documented names of every id, those without a layout here too (Zenitel's message tables).
MESSAGE_NAMES.update({cls.MESSAGE_ID: cls.NAME for cls in registered_classes()})
MESSAGE_NAMES.update(
    {
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
)

#: Negative answers to a call set-up whose layout is not known (matched by id only).
RESOURCE_BUSY_ID: Final = 0x003E
NO_ACCESS_ID: Final = 0x003F
