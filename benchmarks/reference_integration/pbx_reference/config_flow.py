"""One step: how many extensions."""

from __future__ import annotations

from typing import Any

import probatio
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from . import CONF_EXTENSIONS, DOMAIN


class ReferenceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Creates the entry with the number of extensions it is given."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the number of extensions."""
        if user_input is None:
            schema = probatio.Schema({probatio.Required(CONF_EXTENSIONS): int})
            return self.async_show_form(step_id="user", data_schema=schema)
        return self.async_create_entry(title="Reference PBX", data=user_input)
