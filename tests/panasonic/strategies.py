"""Hypothesis strategies for CSTA values and PDUs."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from pbx_protocols.panasonic.codec import (
    Aare,
    Aarq,
    Abort,
    Credentials,
    Invoke,
    Reject,
    ReleaseRequest,
    ReleaseResponse,
    ReturnError,
    ReturnResult,
)
from pbx_protocols.panasonic.kme import device_list_request
from pbx_protocols.panasonic.operations import Opcode

numbers = st.from_regex(r"\+?[0-9*#]{1,16}", fullmatch=True)
invoke_ids = st.integers(1, 32767)
call_ids = st.binary(min_size=1, max_size=6)
causes = st.sampled_from(
    ["newCall", "normalClearing", "busy", "callPickup", "singleStepTransfer", "redirected"]
)
connection_states = st.sampled_from(
    ["null", "initiated", "alerting", "connected", "hold", "queued", "fail"]
)


def device(number: str) -> dict[str, Any]:
    return {"deviceIdentifier": ("dialingNumber", number)}


devices = st.one_of(
    numbers.map(device),
    st.integers(0, 2**31 - 1).map(lambda n: {"deviceIdentifier": ("deviceNumber", n)}),
)
subjects = st.one_of(
    numbers.map(lambda n: ("deviceIdentifier", device(n))),
    st.just(("notKnown", None)),
    st.just(("restricted", None)),
)
connections = st.builds(
    lambda call, number: ("both", {"callID": call, "deviceID": ("staticID", device(number))}),
    call_ids,
    numbers,
)


@st.composite
def call_control_events(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """One call-control event of any typed kind."""
    conn, subject, cause = draw(connections), draw(subjects), draw(causes)
    other, third = draw(subjects), draw(subjects)
    state = draw(connection_states)
    redirection = ("notKnown", None)
    kinds: dict[str, dict[str, Any]] = {
        "delivered": {
            "connection": conn,
            "alertingDevice": subject,
            "callingDevice": other,
            "calledDevice": third,
            "lastRedirectionDevice": redirection,
            "localConnectionInfo": state,
            "cause": cause,
        },
        "established": {
            "establishedConnection": conn,
            "answeringDevice": subject,
            "callingDevice": other,
            "calledDevice": third,
            "lastRedirectionDevice": redirection,
            "cause": cause,
        },
        "originated": {
            "originatedConnection": conn,
            "callingDevice": subject,
            "calledDevice": other,
            "cause": cause,
        },
        "connectionCleared": {
            "droppedConnection": conn,
            "releasingDevice": subject,
            "cause": cause,
        },
        "held": {"heldConnection": conn, "holdingDevice": subject, "cause": cause},
        "retrieved": {"retrievedConnection": conn, "retrievingDevice": subject, "cause": cause},
        "serviceInitiated": {
            "initiatedConnection": conn,
            "initiatingDevice": subject,
            "cause": cause,
        },
        "callCleared": {"clearedCall": conn, "cause": cause},
        "failed": {
            "failedConnection": conn,
            "failingDevice": subject,
            "callingDevice": other,
            "calledDevice": third,
            "lastRedirectionDevice": redirection,
            "cause": cause,
        },
        "diverted": {
            "connection": conn,
            "divertingDevice": subject,
            "newDestination": other,
            "lastRedirectionDevice": redirection,
            "cause": cause,
        },
        "transferred": {
            "primaryOldCall": conn,
            "transferringDevice": subject,
            "transferredToDevice": other,
            "transferredConnections": [
                {"newConnection": draw(connections), "endpoint": ("deviceID", device("1"))}
            ],
            "cause": cause,
        },
        "queued": {
            "queuedConnection": conn,
            "queue": subject,
            "callingDevice": other,
            "calledDevice": third,
            "lastRedirectionDevice": redirection,
            "numberQueued": draw(st.integers(0, 50)),
            "cause": cause,
        },
        "networkReached": {
            "outboundConnection": conn,
            "networkInterfaceUsed": subject,
            "callingDevice": other,
            "calledDevice": third,
            "lastRedirectionDevice": redirection,
            "cause": cause,
        },
        "conferenced": {
            "primaryOldCall": conn,
            "conferencingDevice": subject,
            "addedParty": other,
            "conferenceConnections": [{"newConnection": draw(connections)}],
            "cause": cause,
        },
    }
    name = draw(st.sampled_from(sorted(kinds)))
    return name, kinds[name]


event_reports = st.builds(
    lambda xref, event: {
        "crossRefIdentifier": xref,
        "eventSpecificInfo": ("callControlEvents", event),
    },
    st.binary(min_size=1, max_size=4),
    call_control_events(),
)

invoke_arguments = st.one_of(
    st.tuples(st.just(Opcode.CSTA_EVENT_REPORT), event_reports),
    st.tuples(
        st.just(Opcode.MONITOR_START),
        devices.map(lambda d: {"monitorObject": ("deviceObject", d)}),
    ),
    st.tuples(
        st.just(Opcode.SYSTEM_STATUS),
        st.sampled_from(["normal", "initializing", "enabled", "messagesLost", "disabled"]).map(
            lambda s: {"systemStatus": s}
        ),
    ),
    st.tuples(
        st.just(Opcode.MAKE_CALL),
        st.builds(
            lambda a, b: {"callingDevice": device(a), "calledDirectoryNumber": device(b)},
            numbers,
            numbers,
        ),
    ),
    st.tuples(st.just(Opcode.ANSWER_CALL), connections.map(lambda c: {"callToBeAnswered": c})),
    st.tuples(
        st.just(Opcode.CLEAR_CONNECTION), connections.map(lambda c: {"connectionToBeCleared": c})
    ),
    st.tuples(st.just(Opcode.HOLD_CALL), connections.map(lambda c: {"callToBeHeld": c})),
    st.tuples(st.just(Opcode.RETRIEVE_CALL), connections.map(lambda c: {"callToBeRetrieved": c})),
    st.tuples(
        st.just(Opcode.SINGLE_STEP_TRANSFER_CALL),
        st.builds(lambda c, n: {"activeCall": c, "transferredTo": device(n)}, connections, numbers),
    ),
    st.tuples(st.just(Opcode.SNAPSHOT_DEVICE), devices.map(lambda d: {"snapshotObject": d})),
    st.tuples(st.just(Opcode.ESCAPE), st.just(device_list_request())),
)

results = st.one_of(
    st.tuples(
        st.just(Opcode.MONITOR_START),
        st.binary(min_size=1, max_size=4).map(lambda x: {"crossRefIdentifier": x}),
    ),
    st.tuples(st.just(Opcode.SYSTEM_STATUS), st.just(("noData", None))),
    st.tuples(st.just(Opcode.MAKE_CALL), connections.map(lambda c: {"callingDevice": c})),
    st.tuples(
        st.just(Opcode.SNAPSHOT_DEVICE),
        st.lists(
            st.builds(
                lambda c, states: {
                    "connectionIdentifier": c,
                    "localCallState": ("compoundCallState", states),
                },
                connections,
                st.lists(connection_states, min_size=1, max_size=3),
            ),
            max_size=3,
        ).map(lambda entries: {"crossRefIDorSnapshotData": ("snapshotData", entries)}),
    ),
)

failures = st.sampled_from(
    [
        ("operation", "invalidDeviceID"),
        ("operation", "invalidCalledDeviceID"),
        ("stateIncompatibility", "noCallToAnswer"),
        ("stateIncompatibility", "invalidConnectionState"),
        ("systemResourceAvailability", "resourceBusy"),
        ("unspecified", None),
    ]
)

texts = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=16)

pdus = st.one_of(
    st.builds(lambda i, op_arg: Invoke(i, op_arg[0], op_arg[1]), invoke_ids, invoke_arguments),
    st.builds(lambda i, r: ReturnResult(i, r[0], r[1]), invoke_ids, results),
    st.builds(lambda i, f: ReturnError(i, 1, f), invoke_ids, failures),
    st.builds(lambda user, password: Aarq(credentials=Credentials(user, password)), texts, texts),
    st.just(Aarq()),
    st.builds(
        Aare,
        st.integers(0, 2),
        st.sampled_from(["acse-service-user", "acse-service-provider"]),
        st.integers(0, 14),
    ),
    st.builds(ReleaseRequest, st.sampled_from([None, 0, 1])),
    st.builds(ReleaseResponse, st.sampled_from([None, 0, 1])),
    st.builds(Abort, st.integers(0, 1), st.none() | st.integers(0, 5)),
    st.builds(
        Reject,
        st.none() | invoke_ids,
        st.sampled_from(["general", "invoke", "returnResult", "returnError"]),
        st.integers(0, 9),
    ),
)
