"""Reconnect policy timing and the client's supervisor, on a fake clock."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random

import pytest

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    InvalidInput,
    NoMatchingCall,
    UnexpectedError,
    UnsupportedOperation,
)
from pbx_protocols.core.model import (
    CallInfo,
    CallState,
    Capability,
    ConnectionState,
    LineState,
    PbxInfo,
)
from pbx_protocols.core.reconnect import ReconnectPolicy


def schedule(policy: ReconnectPolicy, outage: float) -> list[float]:
    """Attempt times (seconds after the loss) within the first ``outage`` seconds."""
    policy.link_lost(0.0, link_lifetime=3600.0)
    now, times = 0.0, []
    while now < outage:
        now += policy.next_delay(now)
        times.append(now)
    return times


def test_quick_retries_while_the_outage_is_young():
    policy = ReconnectPolicy(jitter=0.0)
    policy.link_lost(100.0, link_lifetime=3600.0)
    delays = [policy.next_delay(100.0 + t) for t in (0, 1, 3, 7, 12, 17)]
    assert delays == [1, 2, 4, 5, 5, 5]


def test_back_within_five_seconds_for_outages_up_to_five_minutes():
    for seed in range(20):
        times = schedule(ReconnectPolicy(rng=random.Random(seed)), 300)
        gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
        assert max(gaps[: len(times) - 1]) <= 5.0


def test_then_at_most_one_attempt_a_minute():
    for seed in range(20):
        policy = ReconnectPolicy(rng=random.Random(seed))
        times = schedule(policy, 3600)
        late = [t for t in times if t >= 300]
        gaps = [b - a for a, b in itertools.pairwise(late)]
        assert min(gaps) >= 60.0
        assert max(gaps) <= 72.0  # jitter lengthens by at most 20 %


def test_a_thirty_second_outage_after_a_thirty_second_link():
    """The case that waited 18 to 21 s: now the next attempt is at most 5 s away."""
    policy = ReconnectPolicy(rng=random.Random(1))
    policy.link_lost(0.0, link_lifetime=30.0)
    now = 0.0
    while now < 30.0:  # the PBX is back at 30 s
        now += policy.next_delay(now)
    assert now - 30.0 <= 5.0


def test_jitter_spreads_clients_apart():
    first = set()
    for seed in range(20):
        policy = ReconnectPolicy(rng=random.Random(seed))
        policy.link_lost(0.0, 3600.0)
        first.add(round(policy.next_delay(0.0), 3))
    assert len(first) == 20


def test_a_flapping_link_does_not_start_a_fresh_quick_series():
    policy = ReconnectPolicy(jitter=0.0)
    policy.link_lost(0.0, link_lifetime=3600.0)
    assert policy.next_delay(0.0) == 1
    policy.link_lost(400.0, link_lifetime=2.0)  # up for 2 s, 400 s into the outage
    assert policy.next_delay(400.0) == 60
    policy.link_lost(1000.0, link_lifetime=600.0)  # a stable link ends the outage
    assert policy.next_delay(1000.0) == 1


def test_authentication_failure_goes_slow_at_once():
    policy = ReconnectPolicy(jitter=0.0)
    policy.link_lost(0.0, 3600.0)
    policy.authentication_failed()
    assert policy.next_delay(1.0) == 60


class ScriptedSession:
    """What a stack's session looks like to the supervisor."""

    def __init__(self) -> None:
        self._closed = asyncio.Event()
        self.reason: BaseException | None = None

    async def wait_closed(self) -> BaseException | None:
        await self._closed.wait()
        return self.reason

    async def close(self) -> None:
        self._closed.set()

    def drop(self, reason: BaseException) -> None:
        self.reason = reason
        self._closed.set()


class ScriptedClient(PbxClient):
    """A stack whose connection attempts succeed or fail as the test says."""

    capabilities = frozenset({Capability.MAKE_CALL, Capability.HANG_UP})

    def __init__(self, outcomes: list[BaseException | None]) -> None:
        super().__init__(name="scripted PBX", reconnect_policy=ReconnectPolicy(jitter=0.0))
        self.outcomes = outcomes
        self.attempt_times: list[float] = []
        self.sessions: list[ScriptedSession] = []
        self.pbx_calls: list[CallInfo] = []
        self.calls_made: list[tuple[str, str]] = []

    @property
    def info(self) -> PbxInfo:
        return PbxInfo("Test", "Scripted", "scripted-1", "scripted PBX")

    async def _open_session(self) -> ScriptedSession:
        self.attempt_times.append(asyncio.get_running_loop().time())
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        session = ScriptedSession()
        self.sessions.append(session)
        return session

    async def _resynchronise(self, session: ScriptedSession) -> None:
        self.tracker.add_extension("101")
        self._publish(self.tracker.resynchronise("101", self.pbx_calls))

    async def _make_call(self, extension: str, number: str) -> None:
        self.calls_made.append((extension, number))


async def test_connect_and_close_leave_nothing_running():
    client = ScriptedClient([])
    states: list[ConnectionState] = []
    client.subscribe_connection_state(states.append)
    async with client:
        assert client.connected
        assert client.extensions["101"].line_state is LineState.IDLE
    assert states == ["connecting", "connected", "closed"]
    assert client.extensions["101"].line_state is LineState.UNKNOWN


async def test_first_connect_failure_is_raised():
    client = ScriptedClient([ConnectionFailed("no route to host")])
    with pytest.raises(ConnectionFailed):
        await client.connect()
    assert client.connection_state is ConnectionState.DISCONNECTED
    client = ScriptedClient([AuthenticationFailed("wrong password")])
    with pytest.raises(AuthenticationFailed):
        await client.connect()
    assert client.connection_state is ConnectionState.AUTHENTICATION_FAILED


async def test_reconnects_with_backoff_and_logs_once_each_way(time_travel, caplog):
    caplog.set_level(logging.DEBUG, logger="pbx_protocols")
    client = ScriptedClient([])
    await client.connect()
    client.outcomes = [ConnectionFailed("refused"), ConnectionFailed("refused"), None]
    await time_travel(5)
    lost_at = asyncio.get_running_loop().time()
    client.sessions[0].drop(ConnectionFailed("keepalive missing"))
    await time_travel(0)
    assert client.connection_state is ConnectionState.RECONNECTING
    assert client.extensions["101"].line_state is LineState.UNKNOWN
    await time_travel(10)
    assert client.connected
    gaps = [t - lost_at for t in client.attempt_times[1:]]
    # waits of 1, 2 and 4 seconds (real time still passes under the fake clock: tolerance)
    assert gaps == pytest.approx([1, 3, 7], abs=0.05)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.getMessage() for r in warnings] == [
        "Lost connection to scripted PBX (keepalive missing); reconnecting in the background"
    ]
    assert [r.getMessage() for r in infos] == ["Connection to scripted PBX restored"]
    await client.close()


async def test_stable_link_starts_backoff_over(time_travel):
    client = ScriptedClient([])
    await client.connect()
    client.outcomes = [ConnectionFailed("a"), ConnectionFailed("b")]
    client.sessions[0].drop(ConnectionFailed("x"))
    await time_travel(10)  # attempts after 1, 2 and 4 s; the third succeeds
    assert client.connected
    await time_travel(3600)
    lost_at = asyncio.get_running_loop().time()
    client.sessions[1].drop(ConnectionFailed("y"))
    await time_travel(2)
    assert client.attempt_times[-1] - lost_at == pytest.approx(1, abs=0.05)
    await client.close()


async def test_resynchronises_after_reconnect(time_travel):
    client = ScriptedClient([])
    events = []
    client.subscribe_events(events.append)
    client.pbx_calls = [CallInfo("c1", CallState.TALKING)]
    await client.connect()
    assert [e.kind for e in events] == ["answered"]
    client.pbx_calls = []  # the call ended while the link was down
    client.sessions[0].drop(ConnectionFailed("cable pulled"))
    await time_travel(2)
    assert [e.kind for e in events] == ["answered", "ended"]
    assert events[-1].vendor == {"resynchronised": True}
    assert client.extensions["101"].line_state is LineState.IDLE
    await client.close()


async def test_authentication_failure_while_reconnecting(time_travel):
    client = ScriptedClient([])
    await client.connect()
    client.outcomes = [AuthenticationFailed("password changed")] + [ConnectionFailed("z")] * 5
    client.sessions[0].drop(ConnectionFailed("reboot"))
    await time_travel(1.5)
    assert client.connection_state is ConnectionState.AUTHENTICATION_FAILED
    before = len(client.attempt_times)
    await time_travel(59)
    assert len(client.attempt_times) == before  # the next try waits the full minute
    await time_travel(2)
    assert len(client.attempt_times) == before + 1
    await client.close()
    assert client.connection_state is ConnectionState.CLOSED


async def test_call_control_checks_before_sending():
    client = ScriptedClient([])
    async with client:
        await client.make_call("101", "0 30 / 123-45")
        assert client.calls_made == [("101", "03012345")]
        with pytest.raises(InvalidInput, match="contains 'x'"):
            await client.make_call("101", "12x")
        with pytest.raises(InvalidInput, match="not an extension"):
            await client.make_call("999", "102")
        with pytest.raises(UnsupportedOperation, match="cannot answer call"):
            await client.answer_call("101")
        with pytest.raises(NoMatchingCall, match="extension 101 has no call to hang up"):
            await client.hang_up("101")
        client.tracker.update("101", "c1", CallState.RINGING)
        with pytest.raises(NoMatchingCall, match="no call c2"):
            await client.hang_up("101", "c2")
        with pytest.raises(UnsupportedOperation, match="cannot hang up"):
            await client.hang_up("101")
        assert client.calls_made == [("101", "03012345")]
        assert client.supports(Capability.MAKE_CALL)
        assert not client.supports(Capability.DISPLAY_TEXT)


async def test_extension_updates_follow_every_change(time_travel):
    client = ScriptedClient([])
    updates = []
    client.subscribe_extension_updates(updates.append)
    await client.connect()
    assert [(u.number, u.line_state) for u in updates] == [("101", LineState.IDLE)]
    client.tracker.update("101", "c1", CallState.DIALING, quiet=True)
    client._publish()
    assert updates[-1].line_state is LineState.DIALING
    client.sessions[0].drop(ConnectionFailed("gone"))
    await time_travel(0)
    assert updates[-1].line_state is LineState.UNKNOWN
    with pytest.raises(ConnectionFailed, match="not connected"):
        await client.make_call("101", "102")
    await time_travel(2)
    assert updates[-1].line_state is LineState.IDLE  # the quiet call vanished while down
    await client.close()
    assert updates[-1].line_state is LineState.UNKNOWN


async def test_any_exception_from_a_stack_is_survived_and_logged_once(time_travel, caplog):
    client = ScriptedClient([])
    await client.connect()
    client.outcomes = [TypeError("a bug"), TypeError("a bug"), KeyError("x"), None]
    client.sessions[0].drop(ConnectionFailed("gone"))
    await time_travel(30)
    assert client.connected
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    # one traceback per kind of surprise, not one per attempt
    assert [r.exc_info[0] for r in errors] == [TypeError, KeyError]
    await client.close()  # nothing is re-raised


async def test_a_surprise_on_first_connect_is_a_typed_error(caplog):
    client = ScriptedClient([TypeError("a bug")])
    with pytest.raises(UnexpectedError, match="a bug"):
        await client.connect()
    assert client.connection_state is ConnectionState.DISCONNECTED
    assert "Unexpected error while connecting" in caplog.text
