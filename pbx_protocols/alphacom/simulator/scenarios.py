"""Scripted traffic for the simulated exchange (what happens in an office)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Final

from .exchange import Exchange

#: Seconds between the steps of the basic call, before --pace scales them.
BASIC_START: Final = 1.0
BASIC_RING: Final = 2.0
BASIC_TALK: Final = 3.0
BASIC_PAUSE: Final = 4.0


async def basic_call(exchange: Exchange, rng: random.Random, pace: float = 1.0) -> None:
    """The first station calls the second, which answers; the caller hangs up; repeat."""
    first, second = list(exchange.stations)[:2]
    await asyncio.sleep(BASIC_START * pace)
    while True:
        exchange.call(first, second)
        await asyncio.sleep(BASIC_RING * pace)
        exchange.answer(second)
        await asyncio.sleep(BASIC_TALK * pace)
        exchange.hang_up(first)
        await asyncio.sleep(BASIC_PAUSE * pace)


async def busy_office(exchange: Exchange, rng: random.Random, pace: float = 1.0) -> None:
    """Random calls between idle stations, some unanswered.

    The last station is a door station that now and then asks the first to call back.
    """
    numbers = list(exchange.stations)
    door, operator = numbers[-1], numbers[0]
    while True:
        await asyncio.sleep(rng.uniform(0.5, 2.0) * pace)
        if rng.random() < 0.1 and len(numbers) > 1:
            exchange.call_request(door, operator)
            continue
        idle = [n for n in numbers[:-1] if exchange.stations[n].state == "idle"]
        if len(idle) >= 2:
            a, b = rng.sample(idle, 2)
            exchange.call(a, b)
            asyncio.get_running_loop().call_later(
                rng.uniform(1, 4) * pace, _answer_or_give_up, exchange, rng, a, b, pace
            )


def _answer_or_give_up(exchange: Exchange, rng: random.Random, a: str, b: str, pace: float) -> None:
    if rng.random() < 0.8:
        exchange.answer(b)
        asyncio.get_running_loop().call_later(rng.uniform(2, 8) * pace, exchange.hang_up, a)
    else:
        exchange.hang_up(a)


SCENARIOS: Final[dict[str, Callable[[Exchange, random.Random, float], Awaitable[None]]]] = {
    "basic-call": basic_call,
    "busy-office": busy_office,
}
