"""What the demo sets up in Home Assistant: the owner, the PBX entry, names, a dashboard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Final

from .hass_api import HomeAssistantApi, Json
from .hass_process import HomeAssistantProcess

USERNAME: Final = "demo"
PASSWORD: Final = "demo"
DASHBOARD: Final = "pbx-demo"
NAMES: Final = {"101": "Reception", "102": "Sales", "103": "Support", "104": "Warehouse"}
BRANCH_SITE: Final = "branch"
BRANCH_NAMES: Final = {"201": "Branch desk", "202": "Branch workshop"}
#: The simulated AlphaCom intercom exchange's stations and the names they get.
ALPHACOM_STATIONS: Final = "301-306"
ALPHACOM_NAMES: Final = {"301": "Security desk", "306": "Gate intercom"}
#: The serial (device registry) of an AlphaCom entry starts so.
_ALPHACOM_SERIAL: Final = "alphacom:"
#: The serial (device registry) of an NBX entry starts so.
_NBX_SERIAL: Final = "nbx:"
VOICE_EXTENSION: Final = "101"
#: Integrations Home Assistant's onboarding adds by itself, which need the internet; a
#: configuration directory from an older demo may still hold them.
NOT_NEEDED: Final = frozenset({"met", "radio_browser", "google_translate", "shopping_list"})


async def sign_in(api: HomeAssistantApi) -> None:
    """Create the owner demo/demo on the first start, log in as them later."""
    if await api.onboarding_needed():
        await api.create_owner("Demo", USERNAME, PASSWORD)
    else:
        await api.login(USERNAME, PASSWORD)


async def signed_in_when_running(api: HomeAssistantApi, hass: HomeAssistantProcess) -> None:
    """Wait until Home Assistant answers, sign the owner in, wait until it has started."""
    await api.wait_until_up(hass)
    await sign_in(api)
    await api.wait_running()


async def remove_unneeded_entries(api: HomeAssistantApi) -> None:
    """Delete config entries of integrations the demo does not need."""
    for entry in await api.ws({"type": "config_entries/get"}):
        if entry["domain"] in NOT_NEEDED:
            await remove_entry(api, entry["entry_id"])


async def remove_entry(api: HomeAssistantApi, entry_id: str) -> None:
    """Delete a config entry (a REST call: the WebSocket API has none)."""
    await api.request("DELETE", f"/api/config/config_entries/entry/{entry_id}", headers=api.headers)


async def pbx_entries(api: HomeAssistantApi) -> list[tuple[Json, str | None]]:
    """Each pbx entry with its PBX device's serial number (a LAN PBX's address:port).

    The API shows no entry's unique id or data; the device registry shows the serial.
    """
    serials = {
        entry_id: device["serial_number"]
        for device in await api.ws({"type": "config/device_registry/list"})
        if device.get("serial_number")
        for entry_id in device["config_entries"]
    }
    entries = await api.ws({"type": "config_entries/get", "domain": "pbx"})
    return [(entry, serials.get(entry["entry_id"])) for entry in entries]


def is_branch(entry: Json) -> bool:
    """Whether an entry is the branch office (a remote site is titled "<model> (<site>)")."""
    return str(entry["title"]).endswith(f"({BRANCH_SITE})")


async def ensure_pbx_entry(
    api: HomeAssistantApi,
    pbx_port: int,
    names: Mapping[str, str] = NAMES,
    voice_extension: str | None = VOICE_EXTENSION,
) -> str:
    """Add the simulated PBX through the config flow (again, if its port changed).

    Returns the entry's id. Extension names and the voice extension are set through the
    options flow, as a person would.
    """
    where = {"host": "127.0.0.1", "port": pbx_port}
    entries = [
        (entry, serial)
        for entry, serial in await pbx_entries(api)
        if not is_branch(entry) and not str(serial).startswith((_ALPHACOM_SERIAL, _NBX_SERIAL))
    ]
    if kept := await _kept_or_moved(api, entries, f"127.0.0.1:{pbx_port}", where):
        return kept
    entry_id = await add_pbx(api, {"next_step_id": "panasonic_lan"}, where)
    await set_options(api, entry_id, names, voice_extension)
    return entry_id


async def _kept_or_moved(
    api: HomeAssistantApi, entries: list[tuple[Json, str | None]], serial: str, where: Json
) -> str | None:
    """The entry of a simulated PBX, kept, or moved to its new address; others removed.

    A PBX that moved is reconfigured, as a person would do: its entity ids and history
    stay. Removed and added again, its entities would be renamed, and Home Assistant would
    warn that it cannot migrate their history.
    """
    # The one at the address first; else any whose address is known, to move it.
    found = next((pair for pair in entries if pair[1] == serial), None) or next(
        (pair for pair in entries if pair[1] is not None), None
    )
    kept = None
    if found is not None:
        entry, known = found
        if (entry["state"] == "loaded" and known == serial) or await _reconfigured(
            api, str(entry["entry_id"]), where
        ):
            kept = entry
    for entry, _ in entries:
        if entry is not kept:
            await remove_entry(api, entry["entry_id"])
    return str(kept["entry_id"]) if kept is not None else None


async def _reconfigured(api: HomeAssistantApi, entry_id: str, where: Json) -> bool:
    """Run an entry's reconfigure flow with a new address; whether it took it."""
    try:
        result = await api.flow(
            "/api/config/config_entries/flow",
            {"handler": "pbx", "entry_id": entry_id, "show_advanced_options": False},
            where,
        )
    except RuntimeError:  # the form's errors: it cannot reach the PBX there
        return False
    return bool(result.get("type") == "abort" and result.get("reason") == "reconfigure_successful")


async def ensure_alphacom_entry(api: HomeAssistantApi, port: int) -> str:
    """Add the simulated AlphaCom exchange through its config flow (again, if it moved)."""
    where = {
        "host": "127.0.0.1",
        "port": port,
        "device_number": 1,
        "stations": ALPHACOM_STATIONS,
        "link_layer": "auto",
    }
    entries = [
        (entry, serial)
        for entry, serial in await pbx_entries(api)
        if str(serial).startswith(_ALPHACOM_SERIAL)
    ]
    wanted = f"{_ALPHACOM_SERIAL}127.0.0.1:{port}:node1"
    if kept := await _kept_or_moved(api, entries, wanted, where):
        return kept
    entry_id = await add_pbx(api, {"next_step_id": "alphacom_tcp"}, where)
    await set_options(api, entry_id, ALPHACOM_NAMES, None)
    return entry_id


async def ensure_nbx_entry(
    api: HomeAssistantApi, interface: str, phones: str, names: Mapping[str, str]
) -> str:
    """Add the simulated NBX's monitor through its config flow (again, if it moved)."""
    for entry, serial in await pbx_entries(api):
        if not str(serial).startswith(_NBX_SERIAL):
            continue
        if entry["state"] == "loaded" and entry["title"] == f"NBX ({interface})":
            return str(entry["entry_id"])
        await remove_entry(api, entry["entry_id"])
    entry_id = await add_pbx(
        api,
        {"next_step_id": "nbx"},
        {"interface": interface, "phones": phones, "sample_voice": False,
         "allow_display_text": True},
    )  # fmt: skip
    await set_options(api, entry_id, names, None)
    return entry_id


async def ensure_remote_site(
    api: HomeAssistantApi, broker_port: int, broker_changed: bool, names: Mapping[str, str]
) -> str:
    """Home Assistant's MQTT on the demo's broker, and the branch as a remote PBX entry.

    The MQTT entry does not show its port through the API: it is made again when the
    broker's port changed, and the branch's entry then reloaded onto it.
    """
    mqtt_entries = await api.ws({"type": "config_entries/get", "domain": "mqtt"})
    mqtt = mqtt_entries[0] if mqtt_entries else None
    if mqtt is None or broker_changed or mqtt["state"] != "loaded":
        for entry in mqtt_entries:
            await remove_entry(api, entry["entry_id"])
        created = await api.flow(
            "/api/config/config_entries/flow",
            {"handler": "mqtt", "show_advanced_options": False},
            {
                "broker": "127.0.0.1",
                "port": broker_port,
                # What the form's collapsed section holds unless someone opens it.
                "other_settings": {"set_client_cert": False, "set_ca_cert": "off"},
            },
        )
        if created.get("type") != "create_entry":
            raise RuntimeError(f"the MQTT config flow did not create an entry: {created}")
    branch = next((entry for entry, _ in await pbx_entries(api) if is_branch(entry)), None)
    if branch is not None:
        if branch["state"] != "loaded" or mqtt is None or broker_changed:
            await api.request(
                "POST",
                f"/api/config/config_entries/entry/{branch['entry_id']}/reload",
                headers=api.headers,
            )
        return str(branch["entry_id"])
    entry_id = await add_pbx(
        api,
        {"next_step_id": "remote"},
        {"topic_prefix": "pbx"},
        {"site": BRANCH_SITE, "withdraw_discovery": True},
    )
    await set_options(api, entry_id, names, None)
    return entry_id


async def add_pbx(api: HomeAssistantApi, *steps: dict[str, Json]) -> str:
    """Run the pbx config flow with these inputs; return the new entry's id."""
    created = await api.flow(
        "/api/config/config_entries/flow",
        {"handler": "pbx", "show_advanced_options": False},
        *steps,
    )
    if created.get("type") != "create_entry":
        raise RuntimeError(f"the config flow did not create an entry: {created}")
    return str(created["result"]["entry_id"])


async def set_options(
    api: HomeAssistantApi, entry_id: str, names: Mapping[str, str], voice_extension: str | None
) -> None:
    """Names and the voice extension through the options flow, as a person sets them."""
    if not names and not voice_extension:
        return
    settings: dict[str, Json] = {"extensions": [], "prefixes": ""}
    if voice_extension:
        settings["voice_extension"] = voice_extension
    await api.flow(
        "/api/config/config_entries/options/flow", {"handler": entry_id}, settings, dict(names)
    )
    await names_applied(api, names)


async def names_applied(api: HomeAssistantApi, names: Mapping[str, str]) -> None:
    """Wait until the entry reloaded with the names (its entity ids follow them)."""
    wanted = {f"sensor.{slug(name)}_line" for name in names.values()}
    while True:
        registry = await api.ws({"type": "config/entity_registry/list"})
        if wanted <= {entity["entity_id"] for entity in registry}:
            return
        await asyncio.sleep(0.2)


def slug(name: str) -> str:
    """The part of an entity id Home Assistant makes of a name (for plain names)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


#: Line states in which someone is on the phone (a green tile); ringing has a red one.
BUSY: Final = ["dialing", "talking", "held"]


def line_tiles(entity_id: str, name: str) -> list[Json]:
    """A tile showing a line's state and who is on the other end, coloured by its state.

    Colour cannot follow an enum sensor's state in a tile, so one of three conditional
    tiles shows at a time: red while ringing, green while in a call, plain when idle.
    """
    tile = {
        "type": "tile",
        "entity": entity_id,
        "name": name,
        "state_content": ["state", "peer_name"],
    }

    def when(condition: Json, card: Json) -> Json:
        condition = {"condition": "state", "entity": entity_id, **condition}
        return {"type": "conditional", "conditions": [condition], "card": card}

    return [
        when({"state": "ringing"}, {**tile, "color": "red"}),
        when({"state": BUSY}, {**tile, "color": "green"}),
        when({"state_not": ["ringing", *BUSY]}, tile),
    ]


async def ensure_dashboard(api: HomeAssistantApi) -> None:
    """The Phones dashboard: every line with who is on it, the last calls, the PBX."""
    dashboards = await api.ws({"type": "lovelace/dashboards/list"})
    if not any(d["url_path"] == DASHBOARD for d in dashboards):
        await api.ws(
            {
                "type": "lovelace/dashboards/create",
                "url_path": DASHBOARD,
                "title": "Phones",
                "icon": "mdi:phone",
                "show_in_sidebar": True,
                "require_admin": False,
                "mode": "storage",
            }
        )
    registry = await api.ws({"type": "config/entity_registry/list"})
    devices = {d["id"]: d["name_by_user"] or d["name"] for d in await api.ws(
        {"type": "config/device_registry/list"}
    )}  # fmt: skip
    ours = sorted(
        (e for e in registry if e["platform"] == "pbx"), key=lambda e: str(e["unique_id"])
    )

    def named(suffix: str) -> list[tuple[str, str]]:
        return [
            (e["entity_id"], devices.get(e["device_id"]) or e["entity_id"])
            for e in ours
            if str(e["unique_id"]).endswith(suffix)
        ]

    lines, calls = named("_line"), named("_call")
    # One card per PBX (the branch office's too, when there is one), titled by its device.
    pbx_cards: list[Json] = [
        {
            "type": "entities",
            "title": device,
            "entities": [
                {"entity": link, "name": "Link"},
                *[
                    {"entity": caller, "name": "Last outside caller"}
                    for caller, caller_device in named("_last_caller")
                    if caller_device == device
                ],
            ],
        }
        for link, device in named("_connectivity")
    ]
    config = {
        "views": [
            {
                "title": "Phones",
                "cards": [
                    {
                        "type": "grid",
                        "title": "Extensions",
                        "columns": 1,
                        "square": False,
                        "cards": [tile for line in lines for tile in line_tiles(*line)],
                    },
                    {
                        "type": "entities",
                        "title": "Last calls",
                        "entities": [{"entity": e, "name": name} for e, name in calls],
                    },
                    *pbx_cards,
                    {
                        "type": "logbook",
                        "title": "Call log",
                        "target": {"entity_id": [e for e, _ in lines]},
                        "hours_to_show": 4,
                    },
                ],
            }
        ]
    }
    await api.ws({"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config})
