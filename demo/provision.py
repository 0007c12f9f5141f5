"""What the demo sets up in Home Assistant: the owner, the PBX entry, names, a dashboard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Final

from .hass_api import HomeAssistantApi, Json

USERNAME: Final = "demo"
PASSWORD: Final = "demo"
DASHBOARD: Final = "pbx-demo"
NAMES: Final = {"101": "Reception", "102": "Sales", "103": "Support", "104": "Warehouse"}
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


async def remove_unneeded_entries(api: HomeAssistantApi) -> None:
    """Delete config entries of integrations the demo does not need."""
    for entry in await api.ws({"type": "config_entries/get"}):
        if entry["domain"] in NOT_NEEDED:
            await remove_entry(api, entry["entry_id"])


async def remove_entry(api: HomeAssistantApi, entry_id: str) -> None:
    """Delete a config entry (a REST call: the WebSocket API has none)."""
    await api.request("DELETE", f"/api/config/config_entries/entry/{entry_id}", headers=api.headers)


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
    for entry in await api.ws({"type": "config_entries/get", "domain": "pbx"}):
        detail = await api.ws({"type": "config_entries/get_single", "entry_id": entry["entry_id"]})
        unique_id = detail.get("config_entry", {}).get("unique_id") or ""
        if unique_id == f"127.0.0.1:{pbx_port}" and entry["state"] == "loaded":
            return str(entry["entry_id"])
        await remove_entry(api, entry["entry_id"])
    created = await api.flow(
        "/api/config/config_entries/flow",
        {"handler": "pbx", "show_advanced_options": False},
        {"next_step_id": "panasonic_lan"},
        {"host": "127.0.0.1", "port": pbx_port},
    )
    if created.get("type") != "create_entry":
        raise RuntimeError(f"the config flow did not create an entry: {created}")
    entry_id = str(created["result"]["entry_id"])
    if names or voice_extension:
        settings: dict[str, Json] = {"extensions": [], "prefixes": ""}
        if voice_extension:
            settings["voice_extension"] = voice_extension
        await api.flow(
            "/api/config/config_entries/options/flow", {"handler": entry_id}, settings, dict(names)
        )
        await names_applied(api, names)
    return entry_id


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
    pbx = [
        {"entity": entity_id, "name": name}
        for (entity_id, _), name in [
            (named("_connectivity")[0], "Link to the PBX"),
            (named("_last_caller")[0], "Last outside caller"),
        ]
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
                    {"type": "entities", "title": "PBX", "entities": pbx},
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
