"""CSTA device and connection identifiers, to and from the library's plain strings.

A call id is the hex of the CSTA callID octets (Panasonic fills ConnectionID as ``both``:
callID plus the device's staticID).
"""

from __future__ import annotations

from typing import Any

from ..core.render import int_text

type DeviceID = dict[str, Any]
type ConnectionID = tuple[str, Any]


def device_id(number: str) -> DeviceID:
    """DeviceID for a dialling number."""
    return {"deviceIdentifier": ("dialingNumber", number)}


def connection_id(call_id: str, number: str) -> ConnectionID:
    """ConnectionID of ``number``'s connection in the call ``call_id``."""
    return ("both", {"callID": bytes.fromhex(call_id), "deviceID": ("staticID", device_id(number))})


def number_of(device: DeviceID | None) -> str | None:
    """Return the number in a DeviceID, whatever numbering plan it uses."""
    if not device:
        return None
    plan, value = device["deviceIdentifier"]
    if isinstance(value, tuple):  # explicitPublic / explicitPrivate: (type of number, digits)
        value = value[1]
    if isinstance(value, (bytes, bytearray)):  # other: numbering plan outside ECMA-285
        return bytes(value).hex()
    return str(value) if plan != "deviceNumber" else f"#{int_text(value)}"


def subject_number(subject: tuple[str, Any] | None) -> str | None:
    """Return the number in a Calling/Called/Subject/RedirectionDeviceID (None if unknown)."""
    if subject is None:
        return None
    kind, value = subject
    return number_of(value) if kind in ("deviceIdentifier", "numberdialed") else None


def call_id_of(connection: ConnectionID | None) -> str | None:
    """Return the call id in a ConnectionID."""
    if connection is None:
        return None
    kind, value = connection
    if kind == "callID":
        return bytes(value).hex()
    if kind == "both":
        return bytes(value["callID"]).hex()
    return None


def connection_device(connection: ConnectionID | None) -> str | None:
    """Return the device number in a ConnectionID, if it carries one."""
    if connection is None:
        return None
    kind, value = connection
    local = value if kind == "deviceID" else value.get("deviceID") if kind == "both" else None
    if local is None or local[0] != "staticID":
        return None
    return number_of(local[1])
