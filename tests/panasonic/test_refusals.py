"""CSTA errors and failure causes in vendor-neutral words, through a real session."""

from __future__ import annotations

import pytest

from pbx_protocols.core.errors import CommandRejected, Refusal
from pbx_protocols.panasonic.codec import Reject, ReturnError
from pbx_protocols.panasonic.refusals import failure_of, refusal_of
from tests.common import wait_until


@pytest.mark.parametrize(
    ("parameter", "refusal"),
    [
        (("stateIncompatibility", "invalidCallingDeviceState"), Refusal.EXTENSION_BUSY),
        (("stateIncompatibility", "noCallToAnswer"), Refusal.NO_CALL),
        (("stateIncompatibility", 999), Refusal.NO_CALL),  # unknown detail: the category
        (("operation", "invalidCalledDeviceID"), Refusal.NUMBER_UNKNOWN),
        (("operation", "privilegeViolationCallingDevice"), Refusal.NOT_ALLOWED),
        (("operation", "generic"), Refusal.OTHER),
        (("systemResourceAvailability", "calledDeviceOutOfService"), Refusal.NUMBER_OUT_OF_SERVICE),
        (("systemResourceAvailability", "networkBusy"), Refusal.PBX_BUSY),
        (("unspecified", None), Refusal.OTHER),
        (None, Refusal.OTHER),
    ],
)
def test_universal_failures(parameter, refusal):
    assert refusal_of(ReturnError(1, 1, parameter)) is refusal


def test_rejects():
    assert refusal_of(Reject(1, "invoke", 1)) is Refusal.NOT_SUPPORTED  # unrecognizedOperation
    assert refusal_of(Reject(1, "invoke", 2)) is Refusal.OTHER


def test_failure_causes():
    assert failure_of("busy") is Refusal.NUMBER_BUSY
    assert failure_of("destOutOfOrder") is Refusal.NUMBER_OUT_OF_SERVICE
    assert failure_of("somethingNew") is Refusal.OTHER
    assert failure_of(None) is None


async def test_a_refusal_reaches_the_caller_with_its_meaning(simulator, make_client):
    async with make_client() as client:
        await client.make_call("101", "102")
        await wait_until(lambda: client.extension("101").line_state.value == "dialing")
        with pytest.raises(CommandRejected) as info:
            await client.make_call("101", "103")
        assert info.value.refusal is Refusal.EXTENSION_BUSY
        assert info.value.reason == "stateIncompatibility.invalidCallingDeviceState"


async def test_a_blind_transfer_to_a_busy_extension_is_a_refusal(simulator, make_client):
    async with make_client() as client:
        first = simulator.pbx.make_call("101", "102")
        simulator.pbx.answer("102", first)
        busy = simulator.pbx.make_call("103", "104")
        simulator.pbx.answer("104", busy)
        await wait_until(lambda: client.extension("103").line_state.value == "talking")
        with pytest.raises(CommandRejected) as info:
            await client.transfer_call("102", "103")
        assert (info.value.refusal, info.value.reason) == (Refusal.NUMBER_BUSY, "busy")


async def test_a_blind_transfer_returns_once_the_target_rings(simulator, make_client):
    async with make_client() as client:
        call = simulator.pbx.make_call("101", "102")
        simulator.pbx.answer("102", call)
        await wait_until(lambda: client.extension("101").line_state.value == "talking")
        await client.transfer_call("101", "103")
        assert client.extension("103").line_state.value == "ringing"
