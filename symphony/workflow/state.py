"""Run and node state machines (seed M5.5), as checked transition tables.

A run and each of its nodes move through states only by *events*; the tables below are the
whole truth, and :func:`transition` refuses anything else with
:class:`~symphony.commons.errors.InvalidStateTransition`. The executor records every
transition (journal, progress events), so there is no way to change a state besides these.

Run (:class:`RunState`)::

    PENDING --start--> RUNNING --pause--> PAUSED --resume--> RUNNING
    RUNNING --complete--> COMPLETED        RUNNING/PAUSED --fail--> FAILED
    PENDING/RUNNING/PAUSED --cancel--> CANCELLED
    FAILED/CANCELLED --retry--> RUNNING    (the "retry-failed" control command)

Node (:class:`NodeState`)::

    PENDING --ready--> READY --start--> RUNNING --succeed--> SUCCEEDED
    RUNNING --fail--> FAILED               RUNNING --retry--> RETRYING --start--> RUNNING
    RUNNING --wait--> WAITING --resume--> RUNNING   (a gate waiting for approval)
    PENDING/READY --skip--> SKIPPED        (a branch not taken, an upstream failure)
    PENDING/READY/RUNNING/RETRYING/WAITING --cancel--> CANCELLED
    FAILED/CANCELLED/RUNNING/RETRYING/WAITING --reset--> PENDING
                                           (retry-failed; a resumed run re-queues nodes
                                            that were in flight when the process died)

Terminal states: run COMPLETED (FAILED and CANCELLED are terminal unless retried); node
SUCCEEDED and SKIPPED (FAILED and CANCELLED unless reset).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar, cast

from symphony.commons.errors import InvalidStateTransition

__all__ = [
    "NODE_TABLE",
    "NODE_TERMINAL",
    "RUN_TABLE",
    "RUN_TERMINAL",
    "NodeEvent",
    "NodeState",
    "RunEvent",
    "RunState",
    "StateMachine",
    "Transition",
    "transition",
]


class RunState(StrEnum):
    """The state of a workflow run."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RunEvent(StrEnum):
    """What can happen to a run."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    RETRY = "retry"


class NodeState(StrEnum):
    """The state of one node within a run."""

    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    RETRYING = "retrying"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class NodeEvent(StrEnum):
    """What can happen to a node."""

    READY = "ready"
    START = "start"
    SUCCEED = "succeed"
    FAIL = "fail"
    RETRY = "retry"
    WAIT = "wait"
    RESUME = "resume"
    SKIP = "skip"
    CANCEL = "cancel"
    RESET = "reset"


# ---------------------------------------------------------------------------------------
# Rule 1: these tables are the only source of truth for legal moves. Every (state, event)
# pair absent from a table is illegal and raises InvalidStateTransition; nothing else in
# Symphony assigns a state directly. Add a transition here, with a test, or not at all.
# ---------------------------------------------------------------------------------------
_R, _RE = RunState, RunEvent
RUN_TABLE: Mapping[tuple[RunState, RunEvent], RunState] = {
    (_R.PENDING, _RE.START): _R.RUNNING,
    (_R.PENDING, _RE.CANCEL): _R.CANCELLED,
    (_R.RUNNING, _RE.PAUSE): _R.PAUSED,
    (_R.RUNNING, _RE.COMPLETE): _R.COMPLETED,
    (_R.RUNNING, _RE.FAIL): _R.FAILED,
    (_R.RUNNING, _RE.CANCEL): _R.CANCELLED,
    (_R.PAUSED, _RE.RESUME): _R.RUNNING,
    (_R.PAUSED, _RE.FAIL): _R.FAILED,
    (_R.PAUSED, _RE.CANCEL): _R.CANCELLED,
    (_R.FAILED, _RE.RETRY): _R.RUNNING,
    (_R.CANCELLED, _RE.RETRY): _R.RUNNING,
}

_N, _NE = NodeState, NodeEvent
NODE_TABLE: Mapping[tuple[NodeState, NodeEvent], NodeState] = {
    (_N.PENDING, _NE.READY): _N.READY,
    (_N.PENDING, _NE.SKIP): _N.SKIPPED,
    (_N.PENDING, _NE.CANCEL): _N.CANCELLED,
    (_N.READY, _NE.START): _N.RUNNING,
    (_N.READY, _NE.SKIP): _N.SKIPPED,
    (_N.READY, _NE.CANCEL): _N.CANCELLED,
    (_N.RUNNING, _NE.SUCCEED): _N.SUCCEEDED,
    (_N.RUNNING, _NE.FAIL): _N.FAILED,
    (_N.RUNNING, _NE.RETRY): _N.RETRYING,
    (_N.RUNNING, _NE.WAIT): _N.WAITING,
    (_N.RUNNING, _NE.CANCEL): _N.CANCELLED,
    (_N.RUNNING, _NE.RESET): _N.PENDING,
    (_N.RETRYING, _NE.START): _N.RUNNING,
    (_N.RETRYING, _NE.CANCEL): _N.CANCELLED,
    (_N.RETRYING, _NE.RESET): _N.PENDING,
    (_N.WAITING, _NE.RESUME): _N.RUNNING,
    (_N.WAITING, _NE.CANCEL): _N.CANCELLED,
    (_N.WAITING, _NE.RESET): _N.PENDING,
    (_N.FAILED, _NE.RESET): _N.PENDING,
    (_N.CANCELLED, _NE.RESET): _N.PENDING,
}

RUN_TERMINAL = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED})
"""States in which a run does no work (FAILED/CANCELLED can still be retried)."""
NODE_TERMINAL = frozenset(
    {NodeState.SUCCEEDED, NodeState.FAILED, NodeState.SKIPPED, NodeState.CANCELLED}
)
"""States in which a node does no work (FAILED/CANCELLED can still be reset)."""

S = TypeVar("S", RunState, NodeState)
E = TypeVar("E", RunEvent, NodeEvent)


def transition(state: S, event: E) -> S:
    """The state after ``event`` in ``state``.

    Raises:
        InvalidStateTransition: the table has no such move (names state, event and what
            the state allows).
    """
    table: Mapping[tuple[StrEnum, StrEnum], StrEnum]
    if isinstance(state, RunState) and isinstance(event, RunEvent):
        table = RUN_TABLE  # type: ignore[assignment]
    elif isinstance(state, NodeState) and isinstance(event, NodeEvent):
        table = NODE_TABLE  # type: ignore[assignment]
    else:
        raise InvalidStateTransition(
            f"event {event!r} does not apply to state {state!r} (mixing run and node "
            "machines?)"
        )
    try:
        return cast(S, table[(state, event)])
    except KeyError:
        allowed = sorted(e.value for (s, e) in table if s is state)
        kind = "run" if isinstance(state, RunState) else "node"
        raise InvalidStateTransition(
            f"{kind} cannot {event.value!r} while {state.value!r} (allowed: "
            f"{', '.join(allowed) or 'nothing'})",
            details={"state": state.value, "event": event.value},
        ) from None


@dataclass(frozen=True, slots=True)
class Transition(Generic[S, E]):
    """One recorded move."""

    before: S
    event: E
    after: S
    at: float
    """``time.time()`` when it happened."""


@dataclass(slots=True)
class StateMachine(Generic[S, E]):
    """A state plus its history; :meth:`fire` is atomic (a lock guards read-check-write),
    so threads (e.g. a worker-result thread and a control command) cannot interleave."""

    state: S
    history: list[Transition[S, E]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fire(self, event: E) -> S:
        """Apply ``event``; returns the new state.

        Raises:
            InvalidStateTransition: the move is illegal (state unchanged).
        """
        with self._lock:
            before = self.state
            after = transition(before, event)
            self.state = after
            self.history.append(Transition(before, event, after, time.time()))
            return after

    def can(self, event: E) -> bool:
        """Would :meth:`fire` accept ``event`` now?"""
        if isinstance(self.state, RunState):
            return (self.state, event) in RUN_TABLE
        return (self.state, event) in NODE_TABLE
