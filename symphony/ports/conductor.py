"""ConductorPort: the AI decision maker (seed 001 M1.1.1 ``submit_decision``,
``report_reward``, ``get_policy``; design 004 M1.1 ``orchestrate``, ``get_status``).

The contract (:func:`symphony.ports.testing.check_conductor_port`):

- ``submit_decision`` chooses one of the context's candidates (none →
  :class:`PortInvalidRequest`); the decision carries the context's episode, a fresh
  decision id and a confidence in [0, 1]. Each decision counts in
  ``get_status().decisions_made``.
- ``report_reward`` credits an episode that has a decision; an episode without one →
  :class:`PortNotFound`; a non-finite reward → :class:`PortInvalidRequest`. Each reward
  counts in ``rewards_received``.
- ``get_policy`` returns the named policy; its ``version`` never decreases.
- ``orchestrate`` answers with the request's ``request_id``; a request whose workflow is not
  a valid DAG is answered with status ``REJECTED`` (not an error). Each request counts in
  ``orchestrations``.
- ``get_status`` reports health and the counters above.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from symphony.ports.types import (
    ConductorStatus,
    Decision,
    DecisionContext,
    EpisodeId,
    OrchestrationRequest,
    OrchestrationResult,
    Policy,
    PolicyContext,
)

__all__ = ["ConductorPort"]


@runtime_checkable
class ConductorPort(Protocol):
    """Decisions, rewards, policies and orchestration (see the module docstring)."""

    async def submit_decision(self, context: DecisionContext) -> Decision:
        """Decide among ``context.candidates``."""
        ...

    async def report_reward(self, episode_id: EpisodeId, reward: float) -> None:
        """Report the reward earned by an episode's decisions."""
        ...

    async def get_policy(self, context: PolicyContext) -> Policy:
        """The current snapshot of the policy ``context.name``."""
        ...

    async def orchestrate(self, request: OrchestrationRequest) -> OrchestrationResult:
        """Plan and run the work that reaches ``request.goal``."""
        ...

    async def get_status(self) -> ConductorStatus:
        """Health and counters."""
        ...
