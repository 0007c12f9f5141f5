"""Scripted traffic for the simulated PBX: what people in an office do with their phones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any, Final

from .failures import SimulatorFailure
from .pbx import SimulatedPbx

_LOGGER = logging.getLogger(__name__)

type Scenario = Callable[[SimulatedPbx, random.Random, float], Coroutine[Any, Any, None]]

#: The basic call's rhythm, in seconds: it rings, they talk, then a pause. One cycle fits
#: twice into 15 s, so a 15 s monitor run always sees a whole call.
BASIC_RING: Final = 2.0
BASIC_TALK: Final = 3.0
BASIC_PAUSE: Final = 1.5


async def basic_call(pbx: SimulatedPbx, rng: random.Random, pace: float = 1.0) -> None:
    """101 calls 102, 102 answers, 101 hangs up; over and over."""
    caller, callee = list(pbx.devices)[:2]
    while True:
        try:
            call = pbx.make_call(caller, callee)
            await asyncio.sleep(BASIC_RING * pace)
            pbx.answer(callee, call)
            await asyncio.sleep(BASIC_TALK * pace)
            pbx.clear_connection(caller, call)
        except SimulatorFailure as failure:
            # Someone (an action from Home Assistant, say) interfered; try again later.
            _LOGGER.debug("basic-call: %s", failure)
            for call_id in [c.call_id for c in pbx.calls_of(caller) + pbx.calls_of(callee)]:
                with contextlib.suppress(SimulatorFailure):
                    pbx.clear_call(call_id)
        await asyncio.sleep(BASIC_PAUSE * pace)


def _external_number(rng: random.Random) -> str:
    return "0" + str(rng.choice((30, 40, 89, 211, 69))) + "".join(rng.choices("0123456789", k=7))


async def _internal_call(
    pbx: SimulatedPbx, rng: random.Random, pace: float, owned: list[bytes]
) -> None:
    idle = pbx.idle_extensions()
    if len(idle) < 2:
        return
    caller, callee = rng.sample(idle, 2)
    call = pbx.make_call(caller, callee)
    owned.append(call)
    if rng.random() < 0.25:  # nobody picks up: a missed call
        await asyncio.sleep(rng.uniform(5, 9) * pace)
        pbx.clear_connection(caller, call)
        return
    await asyncio.sleep(rng.uniform(1, 5) * pace)
    pbx.answer(callee, call)
    await asyncio.sleep(rng.uniform(3, 10) * pace)
    if rng.random() < 0.3:
        holder = rng.choice((caller, callee))
        pbx.hold(holder, call)
        await asyncio.sleep(rng.uniform(2, 5) * pace)
        pbx.retrieve(holder, call)
        await asyncio.sleep(rng.uniform(2, 6) * pace)
    pbx.clear_connection(rng.choice((caller, callee)), call)


async def _incoming_call(
    pbx: SimulatedPbx, rng: random.Random, pace: float, owned: list[bytes]
) -> None:
    idle = pbx.idle_extensions()
    if not idle:
        return
    callee = rng.choice(idle)
    caller = _external_number(rng)
    call = pbx.incoming_call(caller, callee)
    owned.append(call)
    if rng.random() < 0.3:  # the caller gives up
        await asyncio.sleep(rng.uniform(4, 10) * pace)
        pbx.clear_connection(caller, call)
        return
    await asyncio.sleep(rng.uniform(1, 6) * pace)
    if rng.random() < 0.15 and len(pbx.idle_extensions()) > 0:  # sent on while ringing
        target = rng.choice(pbx.idle_extensions())
        pbx.divert(callee, call, target)
        callee = target
        await asyncio.sleep(rng.uniform(1, 4) * pace)
    pbx.answer(callee, call)
    await asyncio.sleep(rng.uniform(3, 8) * pace)
    if rng.random() < 0.35 and pbx.idle_extensions():  # handed to a colleague
        colleague = rng.choice(pbx.idle_extensions())
        call = pbx.single_step_transfer(callee, call, colleague)
        owned.append(call)
        await asyncio.sleep(rng.uniform(1, 4) * pace)
        if rng.random() < 0.2:
            pbx.clear_connection(caller, call)  # the colleague is too slow
            return
        pbx.answer(colleague, call)
        await asyncio.sleep(rng.uniform(3, 10) * pace)
    pbx.clear_connection(caller, call)


async def _outgoing_call(
    pbx: SimulatedPbx, rng: random.Random, pace: float, owned: list[bytes]
) -> None:
    idle = pbx.idle_extensions()
    if not idle:
        return
    caller = rng.choice(idle)
    callee = _external_number(rng)
    call = pbx.make_call(caller, callee)
    owned.append(call)
    if pbx.outside is None:  # nobody outside answers by themselves: play them here
        await asyncio.sleep(rng.uniform(2, 5) * pace)
        pbx.answer(callee, call)
    # The outside party answers (or is busy, or does not answer) by itself; the caller
    # hangs up when done talking, or tired of ringing.
    await asyncio.sleep(rng.uniform(8, 20) * pace)
    if call in pbx.calls:
        pbx.clear_connection(caller, call)


type Story = Callable[[SimulatedPbx, random.Random, float, list[bytes]], Coroutine[Any, Any, None]]


async def _story(story: Story, pbx: SimulatedPbx, rng: random.Random, pace: float) -> None:
    owned: list[bytes] = []
    try:
        await story(pbx, rng, pace, owned)
    except SimulatorFailure as failure:
        # Someone else (a person, an automation) changed the call first: fine in an office.
        _LOGGER.debug("busy-office story %s ended early: %s", story.__name__, failure)
    finally:
        for call_id in owned:  # leave no call behind, however the story ended
            if call_id in pbx.calls:
                pbx.clear_call(call_id)


async def busy_office(pbx: SimulatedPbx, rng: random.Random, pace: float = 1.0) -> None:
    """Random concurrent calls among all extensions, external callers, holds, transfers."""
    stories: tuple[Story, ...] = (_internal_call, _incoming_call, _outgoing_call)
    weights = (0.4, 0.4, 0.2)
    running: set[asyncio.Task[None]] = set()
    limit = max(2, len(pbx.devices) // 3)
    try:
        while True:
            await asyncio.sleep(rng.uniform(0.5, 2.0) * pace)
            if len(running) >= limit:
                continue
            story = rng.choices(stories, weights)[0]
            task = asyncio.create_task(_story(story, pbx, rng, pace))
            running.add(task)
            task.add_done_callback(running.discard)
    finally:
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


SCENARIOS: dict[str, Scenario] = {"basic-call": basic_call, "busy-office": busy_office}
