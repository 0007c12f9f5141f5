"""What hassfest and HACS validate (neither can run here), and translation coverage.

The rules are hassfest's manifest schema for custom integrations and HACS's
HACS_MANIFEST_JSON_SCHEMA, as listed in the project's Home Assistant notes.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
import yaml
from awesomeversion import AwesomeVersion

from custom_components.pbx.config_flow import HARDWARE_MENU
from custom_components.pbx.const import EVENT_TYPES
from custom_components.pbx.device_trigger import TRIGGER_TYPES
from custom_components.pbx.errors import TRANSLATION_KEYS
from custom_components.pbx.services import SERVICES

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / "pbx"
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text())
STRINGS = json.loads((INTEGRATION / "strings.json").read_text())

MANIFEST_KEYS = {
    "domain", "name", "integration_type", "config_flow", "mqtt", "zeroconf", "ssdp",
    "bluetooth", "homekit", "dhcp", "usb", "documentation", "quality_scale", "requirements",
    "dependencies", "after_dependencies", "codeowners", "loggers", "disabled", "iot_class",
    "single_config_entry", "preview_features", "version", "issue_tracker", "import_executor",
}  # fmt: skip
HACS_KEYS = {
    "name": str, "content_in_root": bool, "zip_release": bool, "filename": str,
    "hide_default_branch": bool, "country": (str, list), "homeassistant": str, "hacs": str,
    "persistent_directory": str, "render_readme": bool,
}  # fmt: skip
QUALITY_RULES = [
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    "async-dependency",
    "inject-websession",
    "strict-typing",
]


def test_manifest_follows_hassfest_rules():
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest wants domain, name, then alphabetical order"
    assert set(keys) <= MANIFEST_KEYS
    assert MANIFEST["domain"] == INTEGRATION.name == "pbx"
    assert MANIFEST["codeowners"] and all(o.startswith("@") for o in MANIFEST["codeowners"])
    assert MANIFEST["documentation"].startswith("https://")
    assert not MANIFEST["documentation"].startswith("https://www.home-assistant.io/integrations")
    assert MANIFEST["issue_tracker"].startswith("https://")
    assert MANIFEST["iot_class"] == "local_push"
    assert MANIFEST["integration_type"] == "hub"
    assert MANIFEST["config_flow"] is True
    assert AwesomeVersion(MANIFEST["version"]).valid
    assert MANIFEST["requirements"] == ["pbx-protocols==0.1.0"]
    from pbx_protocols import __version__

    assert MANIFEST["version"] == __version__


def test_hacs_json_follows_the_hacs_schema():
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert "name" in hacs
    for key, value in hacs.items():
        assert key in HACS_KEYS, f"HACS rejects the key {key!r}"
        assert isinstance(value, HACS_KEYS[key])
    assert AwesomeVersion(hacs["homeassistant"]) == AwesomeVersion("2026.10.4")


def test_brand_icon_is_a_png_of_the_right_size():
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        data = (INTEGRATION / "brand" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)


def test_translations_are_the_strings():
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    assert english == STRINGS
    assert "[%key:" not in json.dumps(STRINGS), "custom integrations get no key references"


def test_every_flow_step_error_and_abort_is_translated():
    flows = [INTEGRATION / "config_flow.py", *(INTEGRATION / "hardware").glob("*.py")]
    source = "".join(path.read_text() for path in flows)
    steps = set(STRINGS["config"]["step"]) | set(STRINGS["options"]["step"])
    for step in re.findall(r'step_id="(\w+)"', source):
        assert step in steps, step
    assert set(HARDWARE_MENU) == set(STRINGS["config"]["step"]["user"]["menu_options"])
    errors = set(STRINGS["config"]["error"]) | set(STRINGS["options"]["error"])
    for error in re.findall(r'(?:errors\[[^\]]+\]|return) = ?"(\w+)"', source):
        assert error in errors, error
    for error in re.findall(r'return "(\w+)"', source):
        assert error in errors, error
    for error in re.findall(r'error = "(\w+)"', source):
        assert error in errors, error
    aborts = set(STRINGS["config"]["abort"]) | set(STRINGS["options"].get("abort", {}))
    for reason in re.findall(r'reason="(\w+)"', source):
        assert reason in aborts, reason
    for step in re.findall(r'reconfigure_step="(\w+)"', source):
        assert step in steps, step


def test_every_action_is_described_translated_and_has_an_icon():
    described = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(described) == set(SERVICES) == set(STRINGS["services"]) == set(icons["services"])
    for name, (schema, _) in SERVICES.items():
        fields = {str(key) for key in schema}
        assert fields == set(described[name].get("fields", {}))
        assert fields == set(STRINGS["services"][name].get("fields", {}))


def test_entities_events_and_triggers_are_translated():
    sensor = STRINGS["entity"]["sensor"]["line_state"]["state"]
    assert list(sensor) == ["idle", "dialing", "ringing", "talking", "held", "offline"]
    event_types = STRINGS["entity"]["event"]["call"]["state_attributes"]["event_type"]["state"]
    assert set(event_types) == set(EVENT_TYPES.values())
    assert set(STRINGS["device_automation"]["trigger_type"]) == set(TRIGGER_TYPES)
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(icons["entity"]["sensor"]["line_state"]["state"]) == set(sensor)


def test_exceptions_used_in_code_are_translated():
    code = "".join(path.read_text() for path in INTEGRATION.glob("*.py"))
    used = set(re.findall(r'translation_key="(\w+)"', code))
    assert used <= set(STRINGS["exceptions"]) | {
        "extension",
        "line_state",
        "active_calls",
        "last_caller",
        "call",
    }
    # Every library error, refusal and missing call has its sentence.
    assert set(TRANSLATION_KEYS) <= set(STRINGS["exceptions"])
    assert {"target_not_found", "target_not_a_line", "line_unavailable"} <= set(
        STRINGS["exceptions"]
    )


def test_quality_scale_lists_every_rule_done_or_exempt_with_a_reason():
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == set(QUALITY_RULES)
    for name, status in rules.items():
        if isinstance(status, dict):
            assert status["status"] in ("done", "exempt"), name
            if status["status"] == "exempt":
                assert len(status["comment"]) > 20, name
        else:
            assert status == "done", name


@pytest.mark.parametrize("sentences", sorted((INTEGRATION / "custom_sentences").rglob("*.yaml")))
def test_example_sentences_name_our_intents(sentences):
    content = yaml.safe_load(sentences.read_text())
    assert set(content["intents"]) == {
        "PbxMakeCall",
        "PbxAnswerCall",
        "PbxHangUp",
        "PbxLineStates",
        "PbxLastCaller",
    }
