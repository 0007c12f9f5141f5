"""Home Assistant's own floor for ``script/benchmark ha``: the reference integration.

:mod:`benchmarks.reference_integration` has the ``pbx`` integration's entity model and
nothing else. Home Assistant finds custom integrations in the ``custom_components``
package, and the repository's own (``custom_components/__init__.py``, on the path of this
environment) would hide the configuration directory's: the reference gets a package of its
own, put first on Home Assistant's path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from demo.hass_api import HomeAssistantApi

REFERENCE_DOMAIN: Final = "pbx_reference"
#: The reference's bus event per call (its ``calls.EVENT_CALL``; a test pins the two).
REFERENCE_EVENT_TYPE: Final = "pbx_reference_call_event"
INTEGRATION: Final = Path(__file__).resolve().parent / "reference_integration" / REFERENCE_DOMAIN


def reference_path(work: Path) -> Path:
    """A directory whose ``custom_components`` package holds only the reference."""
    path = work / "reference-path"
    package = path / "custom_components"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""The benchmark\'s reference integration."""\n')
    link = package / REFERENCE_DOMAIN
    if not link.is_symlink():
        link.symlink_to(INTEGRATION, target_is_directory=True)
    return path


async def add_reference_entry(api: HomeAssistantApi, extensions: int) -> str:
    """Add the reference through its config flow, with ``extensions`` extensions; its id."""
    flow = await api.request(
        "POST",
        "/api/config/config_entries/flow",
        json={"handler": REFERENCE_DOMAIN},
        headers=api.headers,
    )
    result = await api.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        json={"extensions": extensions},
        headers=api.headers,
    )
    if result.get("type") != "create_entry":
        raise RuntimeError(f"the reference integration was not added: {result}")
    entry_id: str = result["result"]["entry_id"]
    return entry_id


async def make_reference_calls(api: HomeAssistantApi, rate: float, seconds: float) -> list[float]:
    """Have the reference make ``rate`` call events a second; how late each was made (s)."""
    late: list[float] = (await _act(api, "make_calls", rate=rate, seconds=seconds))["late"]
    return late


async def end_reference_calls(api: HomeAssistantApi) -> int:
    """Have the reference give up every call still ringing; how many it gave up."""
    ended: int = (await _act(api, "end_calls"))["ended"]
    return ended


async def _act(api: HomeAssistantApi, action: str, **data: float) -> dict[str, Any]:
    """Run one of the reference's actions; its response."""
    answer = await api.ws(
        {
            "type": "call_service",
            "domain": REFERENCE_DOMAIN,
            "service": action,
            "service_data": data,
            "return_response": True,
        }
    )
    response: dict[str, Any] = answer["response"]
    return response
