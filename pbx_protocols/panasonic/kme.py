"""Panasonic KME private data: the device list that names a PBX's extensions.

The request bytes are verified (LinTcMon sends them to real PBXs). The reply structures,
the status values and the device-number layout come from open-source clients that modelled
them by hand, and are marked unverified where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .codec import Asn1Value
from .devices import device_id

KME_EXTENSION_CATEGORY: Final = "extension"
"""Device-list category asking for extensions (value 5; 2 asks for trunks).

Unverified beyond "EXT=5, CO=2" in a public Convert::ASN1 client; LinTcMon sends both.
"""

KME_DEVICE_IN_SERVICE: Final = "inService"
"""Status of a listed device that exists and works (wire value 0).

Unverified: a public client treats status 0 as "present" and skips every other value.
"""

KME_EXTENSION_DEVICE_NUMBER_BASE: Final = 0x01110000
"""deviceNumber of extension index 0 (the simulator numbers its extensions from here).

Unverified: a public client decodes the high 16 bits of a deviceNumber as the device type
(0x0111 extension, 0x0121 portable station, 0x0131 trunk, 0x0155 DISA).
"""

KME_SEGMENT_SIZE: Final = 8
"""Devices per linked-reply segment in the simulator (the real PBX's choice is unknown)."""


@dataclass(frozen=True, slots=True)
class KmeDevice:
    """One entry of the device list."""

    number: str
    device_number: int | None
    in_service: bool


@dataclass(frozen=True, slots=True)
class LinkedReply:
    """One segment of a device list (KmeSystemDataLinkedReply)."""

    cross_ref: bytes
    segment: int
    last: bool
    devices: tuple[KmeDevice, ...]


def device_list_request(category: str = KME_EXTENSION_CATEGORY) -> dict[str, Any]:
    """EscapeArgument asking for the device list of one category."""
    request = ("getSystemData", ("deviceList", ("category", ("standardDevice", category))))
    return {"privateData": ("private", ("kmeSystemData", request))}


def requested_category(argument: dict[str, Any]) -> str | None:
    """Return the category of a device-list request, or None if it is another escape."""
    system_data = _kme_system_data(argument.get("privateData"))
    if system_data is None or system_data[0] != "getSystemData":
        return None
    _, (_, (_, (_, category))) = system_data
    return str(category)


def pos_ack_result(cross_ref: bytes) -> tuple[str, Any]:
    """EscapeResult acknowledging a request; the reply segments follow as invokes."""
    private = ("private", ("kmeSystemData", ("getSystemDataPosAck", cross_ref)))
    return ("extensions", {"privateData": [private]})


def pos_ack_cross_ref(result: Asn1Value) -> bytes | None:
    """Return the cross reference in an EscapeResult acknowledgement, if it is one."""
    if not isinstance(result, tuple) or result[0] != "extensions":
        return None
    for private in result[1].get("privateData", []):
        system_data = _kme_system_data(private)
        if system_data is not None and system_data[0] == "getSystemDataPosAck":
            return bytes(system_data[1])
    return None


def linked_reply_argument(reply: LinkedReply) -> dict[str, Any]:
    """EscapeArgument of one device-list segment."""
    entries = [
        {
            "device": {"deviceIdentifier": ("deviceNumber", device.device_number)}
            if device.device_number is not None
            else device_id(device.number),
            "number": device.number,
            "status": KME_DEVICE_IN_SERVICE if device.in_service else "outOfService",
        }
        for device in reply.devices
    ]
    value = {
        "crossRefID": reply.cross_ref,
        "segmentID": reply.segment,
        "lastSegment": reply.last,
        "sysData": {"deviceList": entries},
    }
    return {"privateData": ("private", ("kmeSystemData", ("systemDataLinkedReply", value)))}


def parse_linked_reply(argument: dict[str, Any]) -> LinkedReply | None:
    """Return the device-list segment in an EscapeArgument, if it is one."""
    system_data = _kme_system_data(argument.get("privateData"))
    if system_data is None or system_data[0] != "systemDataLinkedReply":
        return None
    value = system_data[1]
    devices = []
    for entry in value["sysData"].get("deviceList", []):
        plan, identifier = entry["device"]["deviceIdentifier"]
        devices.append(
            KmeDevice(
                number=str(entry["number"]),
                device_number=identifier if plan == "deviceNumber" else None,
                in_service=entry["status"] == KME_DEVICE_IN_SERVICE,
            )
        )
    return LinkedReply(
        bytes(value["crossRefID"]), value["segmentID"], value["lastSegment"], tuple(devices)
    )


def _kme_system_data(private_data: Asn1Value) -> tuple[str, Any] | None:
    if not isinstance(private_data, tuple) or private_data[0] != "private":
        return None
    kind, system_data = private_data[1]
    return system_data if kind == "kmeSystemData" else None
