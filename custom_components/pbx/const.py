"""Constants of the PBX integration."""

from __future__ import annotations

from typing import Final

from pbx_protocols.core.model import CallEventKind

DOMAIN: Final = "pbx"

# Config entry data
CONF_HARDWARE: Final = "hardware"
CONF_USB_VENDOR_ID: Final = "usb_vendor_id"
CONF_USB_PRODUCT_ID: Final = "usb_product_id"
CONF_USB_SERIAL_NUMBER: Final = "usb_serial_number"
CONF_USB_DEVICE: Final = "usb_device"
CONF_DEVICE_NUMBER: Final = "device_number"
CONF_STATIONS: Final = "stations"
CONF_LINK_LAYER: Final = "link_layer"
CONF_SERIAL_PORT: Final = "serial_port"
CONF_BAUD_RATE: Final = "baud_rate"
CONF_INTERFACE: Final = "interface"
CONF_PHONES: Final = "phones"
CONF_SAMPLE_VOICE: Final = "sample_voice"
CONF_ALLOW_DISPLAY_TEXT: Final = "allow_display_text"
CONF_SITE: Final = "site"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
#: Remote sites: whether the bridge is asked to withdraw its own MQTT discovery.
CONF_WITHDRAW_DISCOVERY: Final = "withdraw_discovery"

# Options
CONF_EXTENSIONS: Final = "extensions"
CONF_NAMES: Final = "names"
CONF_PREFIXES: Final = "prefixes"
CONF_VOICE_EXTENSION: Final = "voice_extension"
CONF_LINK_TIMEOUT: Final = "link_timeout"

#: Hardware types, as offered by the config flow's menu.
HARDWARE_PANASONIC_LAN: Final = "panasonic_lan"
HARDWARE_PANASONIC_USB: Final = "panasonic_usb"
HARDWARE_REMOTE: Final = "remote"
HARDWARE_ALPHACOM_TCP: Final = "alphacom_tcp"
HARDWARE_ALPHACOM_SERIAL: Final = "alphacom_serial"
HARDWARE_NBX: Final = "nbx"

#: The bus event fired for every call event.
EVENT_CALL: Final = f"{DOMAIN}_call_event"
#: The bus event fired for every call detail record the PBX sends.
EVENT_RECORD: Final = f"{DOMAIN}_call_record"

#: Library event kinds as the integration names them (bus event, event entity, triggers).
EVENT_TYPES: Final[dict[CallEventKind, str]] = {
    CallEventKind.RINGING: "incoming_call",
    CallEventKind.ORIGINATED: "outgoing_call",
    CallEventKind.ANSWERED: "answered",
    CallEventKind.HELD: "held",
    CallEventKind.RETRIEVED: "retrieved",
    CallEventKind.TRANSFERRED: "transferred",
    CallEventKind.DIVERTED: "diverted",
    CallEventKind.CONFERENCED: "conferenced",
    CallEventKind.MISSED: "missed",
    CallEventKind.ENDED: "ended",
    CallEventKind.FAILED: "failed",
    CallEventKind.CALL_REQUEST: "call_request",
}

#: A PBX showing more extensions than this is an office: the call event entities of its
#: extensions start disabled (counted as each is first added; the line sensors, device
#: triggers and the ``pbx_call_event`` bus event work without them; enable the ones you
#: automate on). Each costs Home Assistant about 14 kB and a state write per call event
#: (``script/benchmark ha``), and at office scale they are the noise the README's recorder
#: advice leaves out.
CALL_EVENT_ENTITIES_ENABLED_UP_TO: Final = 100

#: Line states an extension's sensor can show (unknown is the state "unknown").
LINE_STATES: Final = ["idle", "dialing", "ringing", "talking", "held", "offline"]

#: Seconds at least between two writes of the PBX's own busy sensors (last outside caller,
#: active calls). On a busy PBX they change with every call; the recorder's cost of one
#: entity's many states in one commit grows with their square (each refers to the one
#: before). Writes still come at once when calls are a second or more apart, and the
#: latest value always comes; every call stays in the call events and the logbook.
PBX_SENSOR_MIN_WRITE_INTERVAL: Final = 1.0

# Action names
SERVICE_MAKE_CALL: Final = "make_call"
SERVICE_ANSWER_CALL: Final = "answer_call"
SERVICE_HANG_UP: Final = "hang_up"
SERVICE_HOLD_CALL: Final = "hold_call"
SERVICE_RETRIEVE_CALL: Final = "retrieve_call"
SERVICE_TRANSFER_CALL: Final = "transfer_call"
SERVICE_DIAL_DIGITS: Final = "dial_digits"
SERVICE_DISPLAY_TEXT: Final = "display_text"
SERVICE_SEND_MESSAGE: Final = "send_message"

ATTR_NUMBER: Final = "number"
ATTR_CALL_ID: Final = "call_id"
ATTR_DIGITS: Final = "digits"
ATTR_TEXT: Final = "text"

#: How long the config flow's form waits for a PBX to connect before it says it cannot.
CONNECT_TIMEOUT: Final = 60.0
