"""The simulator's wire side: one CSTA association over one PDU link, as a PBX behaves.

Besides answering requests it reproduces what the seed document reports about keepalives:
the PBX sends systemStatus at random intervals of about a minute; a client that answers the
first one is ignored from then on, and one that stops answering later ones gets no more
monitoring events. Every client is bounded: requests in flight, PDUs waiting to be sent,
time to associate and time of silence, so one client cannot starve another.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from dataclasses import dataclass
from typing import Any, Final

from ...core.errors import ConnectionFailed, ProtocolError
from ...core.log_throttle import RepeatedWarning
from ...core.transport import PduLink
from ..ber import credential_spans
from ..codec import (
    Aare,
    Aarq,
    Abort,
    Asn1Value,
    Credentials,
    Invoke,
    Pdu,
    Reject,
    ReleaseRequest,
    ReleaseResponse,
    ReturnError,
    ReturnResult,
    decode_pdu,
)
from ..operations import OPERATIONS, UNIVERSAL_FAILURE, Opcode
from ..records import condition_extensions
from .failures import SimulatorFailure
from .pbx import TRUNK, FinishedCall, SimulatedPbx, subject
from .services import CstaServices

_LOGGER = logging.getLogger(__name__)

#: The seed says "ca 60 s"; the simulator defaults to that.
KEEPALIVE_INTERVAL: Final = 60.0

KEEPALIVE_JITTER: Final = 0.25
"""Keepalive intervals vary by up to this fraction either way.

Unverified: the seed says the PBX sends them "in random time intervals (ca 60 s)"; how
random is not known.
"""

EVENTS_RESUME_ON_ANSWER: Final = True
"""A client that missed a keepalive answer gets events again once it answers the next one.

Unverified: the seed only says the PBX stops sending events; whether (and when) a real PBX
resumes them is not known.
"""

#: Requests of one client being worked on at once; its further requests wait unread.
MAX_REQUESTS_IN_FLIGHT: Final = 32
#: PDUs waiting to be sent to one client; a client that lets more pile up is dropped.
MAX_OUTBOX: Final = 4096
#: Seconds a new connection has to associate.
ASSOCIATION_DEADLINE: Final = 10.0
#: Seconds an associated client may stay silent (it answers keepalives once a minute).
IDLE_TIMEOUT: Final = 300.0
_ACSE_AUTHENTICATION_FAILURE: Final = 13
_ACSE_AUTHENTICATION_REQUIRED: Final = 14
_INVOKE_PROBLEM_UNRECOGNIZED_OPERATION: Final = 1
_INVOKE_PROBLEM_MISTYPED_ARGUMENT: Final = 2
_GENERAL_PROBLEM_MISTYPED_PDU: Final = 1
_CDR_DURATION_UNITS_PER_SECOND: Final = 10
_MAX_INVOKE_ID: Final = 32767


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Behaviour of the simulated PBX towards one client."""

    keepalive_interval: float = KEEPALIVE_INTERVAL
    credentials: Credentials | None = None
    #: Test knob: no keepalives at all (the PBX went quiet).
    send_keepalives: bool = True
    #: Test knob: refuse the KME device list (PBX firmware without it).
    device_list: bool = True
    #: Seconds every answer takes (a slow PBX); requests are still worked on concurrently.
    answer_delay: float = 0.0
    association_deadline: float = ASSOCIATION_DEADLINE
    idle_timeout: float = IDLE_TIMEOUT
    max_requests_in_flight: int = MAX_REQUESTS_IN_FLIGHT
    max_outbox: int = MAX_OUTBOX


class SimulatorSession:
    """Serves one client: association, keepalives, monitors, call control and CDR."""

    def __init__(
        self,
        pbx: SimulatedPbx,
        link: PduLink,
        settings: ServiceSettings,
        *,
        running: asyncio.Event | None = None,
        rng: random.Random | None = None,
        unanswered: dict[int, int] | None = None,
    ) -> None:
        self._pbx = pbx
        self._link = link
        link.redactor = credential_spans
        self._settings = settings
        self._rng = rng or random.Random()
        #: Test knob shared by all sessions: how many requests of an operation go unanswered.
        self._unanswered = unanswered if unanswered is not None else {}
        self._associated = False
        self._invoke_ids = itertools.count(1)
        self._keepalives_sent = 0
        self._unanswered_keepalive: int | None = None
        #: The client answered the first systemStatus: the PBX ignores its requests.
        self.ignoring_requests = False
        #: A later systemStatus went unanswered: the PBX sends no more monitoring events.
        self.events_suspended = False
        #: Set while the PBX works; cleared, it stalls like a stopped process.
        self._running = running or asyncio.Event()
        if running is None:
            self._running.set()
        self._services = CstaServices(
            pbx, self._queue, self._next_invoke_id, device_list=lambda: settings.device_list
        )
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(settings.max_outbox)
        self._slots = asyncio.Semaphore(settings.max_requests_in_flight)
        self._bad_pdus = RepeatedWarning(_LOGGER)
        self._unsubscribe = [
            pbx.subscribe(self._on_pbx_event),
            pbx.subscribe_records(self._on_record),
        ]
        self._tasks: set[asyncio.Task[None]] = set()
        self._overflowed = False

    @property
    def monitored(self) -> list[str]:
        """Extensions this client monitors."""
        return list(self._services.monitors)

    @property
    def description(self) -> str:
        """Who the client is (its link)."""
        return self._link.description

    def cross_reference(self, number: str) -> bytes | None:
        """The cross reference of this client's monitor of an extension, if it has one."""
        return self._services.monitors.get(number)

    async def send_raw(self, payload: bytes) -> None:
        """Send a PDU's bytes to the client as they are, now (benchmarks, hostile tests)."""
        await self._link.send(payload)

    async def run(self) -> None:
        """Serve the client until it leaves (or breaks a limit)."""
        self._spawn(self._write_loop())
        try:
            while await self._serve_next():
                pass
        except ConnectionFailed:
            pass  # the client went away
        finally:
            await self.stop()

    async def _serve_next(self) -> bool:
        deadline = (
            self._settings.idle_timeout if self._associated else self._settings.association_deadline
        )
        try:
            async with asyncio.timeout(deadline):
                data = await self._link.receive()
        except TimeoutError:
            what = "sent nothing" if self._associated else "did not associate"
            _LOGGER.info("Simulator: %s %s for %g s; closing", self.description, what, deadline)
            return False
        await self._running.wait()
        try:
            pdu = decode_pdu(data)
        except ProtocolError as err:
            self._bad_pdus.report("Simulator received a bad PDU from %s: %s", self.description, err)
            self._queue(Reject(None, "general", _GENERAL_PROBLEM_MISTYPED_PDU))
            return True
        return await self._handle(pdu)

    async def stop(self) -> None:
        """Drop the client."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._link.close()
        self._bad_pdus.flush()

    async def abort(self) -> None:
        """Abort the association, as a PBX does when it restarts."""
        with contextlib.suppress(ConnectionFailed):
            await self._link.send(Abort(source=1).encode())
        await self.stop()

    # -- PDUs ---------------------------------------------------------------------------

    async def _handle(self, pdu: Pdu) -> bool:
        """Process one PDU; return False when the association is over."""
        if isinstance(pdu, Aarq):
            return await self._associate(pdu)
        if isinstance(pdu, ReleaseRequest):
            await self._link.send(ReleaseResponse().encode())
            return False
        if isinstance(pdu, Abort):
            return False
        if isinstance(pdu, ReturnResult) and pdu.opcode == Opcode.SYSTEM_STATUS:
            self._keepalive_answered(pdu.invoke_id)
        elif isinstance(pdu, Invoke) and self._associated:
            if not self.ignoring_requests:
                # Waiting for a slot stops reading: TCP then holds the client back.
                await self._slots.acquire()
                self._spawn(self._invoked(pdu))
        else:
            _LOGGER.debug("Simulator ignores %s", pdu.kind)
        return True

    async def _associate(self, aarq: Aarq) -> bool:
        wanted = self._settings.credentials
        if wanted is not None and aarq.credentials != wanted:
            diagnostic = (
                _ACSE_AUTHENTICATION_REQUIRED
                if aarq.credentials is None
                else _ACSE_AUTHENTICATION_FAILURE
            )
            await self._link.send(Aare(result=1, diagnostic=diagnostic).encode())
            return False
        # The AARE a real PBX sends (version 1, CSTA version five, user information),
        # whatever the AARQ carried.
        self._queue(Aare(result=0))
        self._associated = True
        if self._settings.send_keepalives:
            self._spawn(self._keepalives())
        return True

    async def _keepalives(self) -> None:
        while True:
            await self._running.wait()
            if self._keepalives_sent > 1 and self._unanswered_keepalive is not None:
                self.events_suspended = True
            invoke_id = self._next_invoke_id()
            self._keepalives_sent += 1
            self._unanswered_keepalive = invoke_id
            self._queue(Invoke(invoke_id, Opcode.SYSTEM_STATUS, {"systemStatus": "normal"}))
            spread = self._rng.uniform(1 - KEEPALIVE_JITTER, 1 + KEEPALIVE_JITTER)
            await asyncio.sleep(self._settings.keepalive_interval * spread)

    def _keepalive_answered(self, invoke_id: int) -> None:
        if self._keepalives_sent == 1 and invoke_id == self._unanswered_keepalive:
            self.ignoring_requests = True  # the seed: "the PBX didn't respond to my requests"
            _LOGGER.info("Simulator: the first systemStatus was answered; ignoring the client")
        if invoke_id == self._unanswered_keepalive:
            self._unanswered_keepalive = None
            if self.events_suspended and EVENTS_RESUME_ON_ANSWER:
                self.events_suspended = False

    async def _invoked(self, invoke: Invoke) -> None:
        try:
            if self._unanswered.get(invoke.opcode, 0) > 0:
                self._unanswered[invoke.opcode] -= 1
                return  # lost, as by a PBX under load
            if self._settings.answer_delay:
                await asyncio.sleep(self._settings.answer_delay)
            answer = await self._answer(invoke)
            if answer is not None:
                self._queue(answer)
        finally:
            self._slots.release()

    async def _answer(self, invoke: Invoke) -> Pdu | None:
        handler = self._services.handlers.get(invoke.opcode)
        if invoke.opcode not in OPERATIONS:
            return Reject(invoke.invoke_id, "invoke", _INVOKE_PROBLEM_UNRECOGNIZED_OPERATION)
        if handler is None:
            failure = ("operation", "serviceNotSupported")
            return ReturnError(invoke.invoke_id, UNIVERSAL_FAILURE, failure)
        if invoke.argument is None:
            return Reject(invoke.invoke_id, "invoke", _INVOKE_PROBLEM_MISTYPED_ARGUMENT)
        try:
            result = await handler(invoke)
        except SimulatorFailure as failure:
            parameter = (failure.category, failure.value)
            return ReturnError(invoke.invoke_id, UNIVERSAL_FAILURE, parameter)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            _LOGGER.info("Simulator rejects %s: %s", invoke.operation, err)
            return Reject(invoke.invoke_id, "invoke", _INVOKE_PROBLEM_MISTYPED_ARGUMENT)
        return None if result is None else ReturnResult(invoke.invoke_id, invoke.opcode, result)

    # -- what the PBX tells the client --------------------------------------------------

    def _on_pbx_event(self, device: str, family: str, name: str, value: Asn1Value) -> None:
        cross_ref = self._services.monitors.get(device)
        if cross_ref is None or self.events_suspended or not self._associated:
            return
        report = {"crossRefIdentifier": cross_ref, "eventSpecificInfo": (family, (name, value))}
        self._queue(Invoke(self._next_invoke_id(), Opcode.CSTA_EVENT_REPORT, report))

    def _on_record(self, call: FinishedCall) -> None:
        cross_ref = self._services.cdr_cross_ref
        if cross_ref is None or not self._associated:
            return
        report = {
            "cdrCrossRefID": cross_ref,
            "numberOfRecordsSent": 1,
            "cdrInfo": [_cdr_item(call)],
        }
        if call.condition is not None:
            report["extensions"] = condition_extensions(call.condition)
        self._queue(Invoke(self._next_invoke_id(), Opcode.CDR_REPORT, report))

    # -- sending ------------------------------------------------------------------------

    def _next_invoke_id(self) -> int:
        # Positive two-byte INTEGERs, wrapping as LinTcMon's do.
        return (next(self._invoke_ids) - 1) % _MAX_INVOKE_ID + 1

    def _queue(self, pdu: Pdu) -> None:
        """Put a PDU on the way to the client; a client that reads nothing is dropped."""
        if self._overflowed:
            return
        try:
            self._outbox.put_nowait(pdu.encode())
        except asyncio.QueueFull:
            self._overflowed = True
            _LOGGER.warning(
                "Simulator: %s reads nothing (%d PDUs waiting); dropping the client",
                self.description,
                self._outbox.qsize(),
            )
            self._spawn(self._link.abort())

    async def _write_loop(self) -> None:
        with contextlib.suppress(ConnectionFailed):
            while True:
                data = await self._outbox.get()
                await self._running.wait()
                await self._link.send(data)

    def _spawn(self, coroutine: Any) -> None:  # noqa: ANN401  # any coroutine of ours
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and isinstance(task.exception(), ConnectionFailed):
            return  # the client left while we were talking to it
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("Simulator task failed", exc_info=task.exception())


def _cdr_item(call: FinishedCall) -> dict[str, Asn1Value]:
    """CDRInformationItem of a finished call, as LinTcMon reads it from a real PBX."""
    item: dict[str, Asn1Value] = {
        "recordCreationTime": call.started.replace(microsecond=0),
        "callingDevice": subject(call.calling),
        "calledDevice": subject(call.called),
        "connectionEnd": call.ended.replace(microsecond=0),
    }
    if call.calling_external:
        item["associatedCallingDevice"] = subject(TRUNK)
    if call.called_external:
        item["associatedCalledDevice"] = subject(TRUNK)
    talked = (call.ended - call.answered).total_seconds() if call.answered else 0.0
    item["connectionDuration"] = round(talked * _CDR_DURATION_UNITS_PER_SECOND)
    return item
