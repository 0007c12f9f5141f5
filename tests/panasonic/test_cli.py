"""``pbx-protocols ... panasonic``: decode, simulate, monitor and call as a user runs them."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import pytest

from pbx_protocols.cli import run
from pbx_protocols.panasonic.codec import Credentials, Invoke
from pbx_protocols.panasonic.framing import usb_packets
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.simulator import SimulatorConfig
from tests.panasonic.conftest import EXTENSIONS
from tests.panasonic.test_vectors import VECTORS, seed_originated_event


def decode(capsys, *argv: str) -> list[dict]:
    assert run(["decode", "panasonic", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_decode_bare_pdu(capsys):
    (pdu,) = decode(capsys, VECTORS["system_status_first_keepalive"]["hex"])
    assert pdu["pdu"] == "invoke"
    assert (pdu["invoke_id"], pdu["opcode"], pdu["operation"]) == (1, 211, "systemStatus")
    assert pdu["argument"] == {"systemStatus": "normal"}


def test_decode_tcp_stream_of_several_frames(capsys):
    stream = (
        VECTORS["monitor_start_dialing_number_101"]["hex"]
        + VECTORS["system_status_invoke_id9"]["hex"]
    )
    first, second = decode(capsys, "--framing", "tcp", stream)
    assert first["operation"] == "monitorStart"
    assert first["argument"] == {
        "monitorObject": {"deviceObject": {"deviceIdentifier": {"dialingNumber": "101"}}}
    }
    assert (second["invoke_id"], second["operation"]) == (9, "systemStatus")


def test_decode_usb_packets_of_the_seed_example(capsys):
    packets = usb_packets(seed_originated_event())
    hex_words = [packet.hex(" ") for packet in packets]
    (pdu,) = decode(capsys, "--framing", "usb", *hex_words)
    originated = pdu["argument"]["eventSpecificInfo"]["callControlEvents"]["originated"]
    assert originated["cause"] == "newCall"
    assert pdu["argument"]["crossRefIdentifier"] == "01110002"


def test_decode_acse(capsys):
    (aarq,) = decode(capsys, VECTORS["aarq_client"]["hex"])
    assert aarq["application_context_name"] == "1.3.12.0.218"
    (aare,) = decode(capsys, VECTORS["aare_pbx_accepted"]["hex"])
    assert (aare["pdu"], aare["result"]) == ("aare", "accepted")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a10c020101020200d330030a01"], "at offset"),
        (["--framing", "tcp", "000ea10c0201"], "incomplete"),
        (["--framing", "usb", "0110"], "announces"),
        (["--framing", "usb", "013c008c" + "00" * 60], "end inside a fragmented PDU"),
        (["zz"], "not hexadecimal"),
        (["a1f"], "odd number of hex digits"),
        (["--framing", "tcp", "0002ffff"], "unknown PDU tag 0xff at offset 2"),
    ],
)
def test_decode_errors_are_one_line_with_exit_2(capsys, argv, message):
    assert run(["decode", "panasonic", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert message in line


def test_connection_options_are_checked(capsys):
    assert run(["call", "panasonic", "--from", "101", "--to", "102"]) == 2
    assert "give either --host or --usb" in capsys.readouterr().err
    assert run(["simulate", "panasonic", "--listen", "nonsense"]) == 2
    assert "expected HOST:PORT" in capsys.readouterr().err
    assert run(["simulate", "panasonic", "--extensions", "9-1"]) == 2
    assert "bad extension range" in capsys.readouterr().err
    assert run(["monitor", "panasonic", "--usb", "--usb-product", "xyz"]) == 2
    assert "expected a hex id" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def cli(*argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pbx_protocols",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_monitor_refused_connection_exits_1(socket_enabled):
    process = await cli("monitor", "panasonic", "--host", "127.0.0.1", "--port", str(free_port()))
    out, err = await process.communicate()
    assert process.returncode == 1
    assert out == b""
    assert len(err.decode().splitlines()) == 1
    assert "cannot connect" in err.decode()


async def test_simulate_and_monitor_show_the_basic_call(socket_enabled):
    port = free_port()
    simulator = await cli(
        "simulate",
        "panasonic",
        "--listen",
        f"127.0.0.1:{port}",
        "--scenario",
        "basic-call",
        "--pace",
        "0.3",
    )
    try:
        announcement = json.loads(await simulator.stdout.readline())
        assert announcement["listening"] == f"127.0.0.1:{port}"
        monitor = await cli(
            "monitor", "panasonic", "--host", "127.0.0.1", "--port", str(port), "--duration", "5"
        )
        out, err = await monitor.communicate()
        assert monitor.returncode == 0, err.decode()
    finally:
        simulator.terminate()
        await simulator.wait()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    events = [line for line in lines if "event" in line]
    records = [line for line in lines if line.get("record") == "call"]
    assert {"extension", "event", "state", "peer", "call_id", "direction"} <= set(events[0])
    # Every finished call also comes as a call detail record.
    assert records
    assert (records[0]["calling"], records[0]["called"], records[0]["extension"]) == (
        "101",
        "102",
        "101",
    )
    assert records[0]["duration"] > 0
    assert records[0]["ended"] is not None
    by_call: dict[str, dict[str, list[tuple[str, str | None]]]] = {}
    for event in events:
        by_call.setdefault(event["call_id"], {}).setdefault(event["extension"], []).append(
            (event["state"], event["peer"])
        )
    whole_calls = [c for c in by_call.values() if len(c.get("102", [])) == 3]
    assert whole_calls, by_call
    assert whole_calls[0]["102"] == [("ringing", "101"), ("talking", "101"), ("idle", "101")]
    assert [state for state, _ in whole_calls[0]["101"]] == ["dialing", "talking", "idle"]


def call_command(simulator, caller: str, callee: str) -> tuple[str, ...]:
    address = ("--host", "127.0.0.1", "--port", str(simulator.port))
    return ("call", "panasonic", *address, "--from", caller, "--to", callee)


async def test_call_command_places_a_call(simulator):
    process = await cli(*call_command(simulator, "103", "104"))
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == {"result": "ok", "from": "103", "to": "104"}
    (call,) = simulator.pbx.calls.values()
    assert (call.calling, call.called) == ("103", "104")


async def test_call_command_with_a_bad_number_exits_2(simulator):
    process = await cli(*call_command(simulator, "103", "12ab"))
    _, err = await process.communicate()
    assert process.returncode == 2
    assert "contains 'ab'" in err.decode()
    assert "Traceback" not in err.decode()


def test_event_report_decodes_with_the_cli(capsys):
    report = {
        "crossRefIdentifier": b"\x07",
        "eventSpecificInfo": (
            "deviceMaintenanceEvents",
            (
                "outOfService",
                {"device": ("deviceIdentifier", {"deviceIdentifier": ("dialingNumber", "105")})},
            ),
        ),
    }
    (pdu,) = decode(capsys, Invoke(3, Opcode.CSTA_EVENT_REPORT, report).encode().hex())
    assert pdu["argument"]["eventSpecificInfo"] == {
        "deviceMaintenanceEvents": {
            "outOfService": {
                "device": {"deviceIdentifier": {"deviceIdentifier": {"dialingNumber": "105"}}}
            }
        }
    }


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(port=0, extensions=EXTENSIONS, credentials=Credentials("cti", "s3 cret"))],
)
async def test_the_password_can_stay_out_of_the_process_list(simulator, tmp_path, monkeypatch):
    login = ("--username", "cti")
    monkeypatch.setenv("PBX_TEST_PASSWORD", "s3 cret")
    by_env = await cli(
        *call_command(simulator, "101", "102"), *login, "--password-env", "PBX_TEST_PASSWORD"
    )
    _, err = await by_env.communicate()
    assert by_env.returncode == 0, err.decode()
    secret = tmp_path / "password"
    secret.write_text("s3 cret\n")
    by_file = await cli(
        *call_command(simulator, "103", "104"), *login, "--password-file", str(secret)
    )
    _, err = await by_file.communicate()
    assert by_file.returncode == 0, err.decode()
    missing = await cli(
        *call_command(simulator, "101", "103"), *login, "--password-env", "NOT_SET_ANYWHERE"
    )
    _, err = await missing.communicate()
    assert missing.returncode == 2
    assert "the environment variable NOT_SET_ANYWHERE is not set" in err.decode()
