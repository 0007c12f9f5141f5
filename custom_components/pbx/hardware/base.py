"""What every hardware family declares, and the connection test every one of them uses.

A family module (``panasonic``, ``remote``, ...) declares one :class:`HardwareType` per
entry of the config flow's menu and a mixin of config-flow steps for its forms. Nothing
outside these modules knows which PBX it talks to.

A family's library stack is imported only when an entry or a step of that family needs it
(:func:`async_load_stack`, in an executor): a Home Assistant with one PBX carries the code
of one stack. Family modules import from their stack inside the functions that run after
it is loaded, and at the top only from its light ``settings``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.importlib import async_import_module

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.disk_cache import set_cache_directory
from pbx_protocols.core.errors import (
    AuthenticationFailed,
    DiscoveryFailed,
    PbxError,
    UnexpectedError,
)

from ..const import CONNECT_TIMEOUT, DOMAIN

_LOGGER = logging.getLogger(__name__)

#: Builds the library client from a config entry's data and the dead-link timeout.
type ClientFactory = Callable[[HomeAssistant, Mapping[str, Any], float], PbxClient]
#: Work a hardware type does beside its client, given the entry's data.
type EntryHook = Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HardwareType:
    """One entry of the config flow's menu (its step id is ``key``)."""

    key: str
    create_client: ClientFactory
    #: The library module the client factory, hooks and steps need (imported beforehand).
    stack: str = field(kw_only=True)
    #: Step that changes where the PBX is (``None``: nothing to reconfigure).
    reconfigure_step: str | None = None
    #: Whether the PBX may ask for a login (then the entry offers reauthentication).
    has_login: bool = False
    #: Runs once the entry's client is connected.
    async_entry_loaded: EntryHook | None = None
    #: Runs when the user deletes the entry.
    async_entry_removed: EntryHook | None = None
    #: The repair issue (its translation key) a connection error calls for, if the user
    #: must change something outside Home Assistant (a capability, say).
    repair_issue: Callable[[PbxError], str | None] | None = None
    #: Settings of the entry's data the options flow offers too (key -> selector); the
    #: options' value wins over the data's.
    option_fields: Mapping[str, Any] = field(default_factory=dict)
    #: Checks those settings: {key: error key} for each one that is wrong.
    check_options: Callable[[Mapping[str, Any]], dict[str, str]] | None = None


async def async_load_stack(hass: HomeAssistant, stack: str) -> None:
    """Import a library stack (:attr:`HardwareType.stack`, or the part a step needs), once.

    In Home Assistant's import executor: importing reads files.

    What a stack computes once and keeps on disk (the compiled ASN.1 types) goes to Home
    Assistant's cache directory: unlike the home directory, it survives the container being
    replaced on an update, and it is writable wherever Home Assistant runs.
    """
    set_cache_directory(hass.config.cache_path(DOMAIN))
    await async_import_module(hass, stack)


class HardwareSteps(ConfigFlow):
    """Base of every family's config-flow mixin (typed access to the flow)."""

    async def async_test_connection(self, client: PbxClient) -> str | None:
        """Connect, associate and read the extensions; return an error key or None."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await client.connect()
        except AuthenticationFailed:
            return "invalid_auth"
        except DiscoveryFailed:
            return "no_extensions"
        except UnexpectedError:
            return "unknown"  # the library logged it with its traceback
        except (PbxError, TimeoutError) as err:
            _LOGGER.debug("Cannot connect to %s: %s", client.name, err)
            return "cannot_connect"
        except Exception:
            _LOGGER.exception("Unexpected error connecting to %s", client.name)
            return "unknown"
        finally:
            await client.close()
        return None
