"""Model lifecycle: ``COLD → WARMING → HOT → COOLING → COLD``, plus ``FAILED``.

Rule 1 — every state change goes through :func:`check_transition`, which consults the one
table :data:`TRANSITIONS`; anything else raises
:class:`~symphony.commons.errors.InvalidStateTransition` naming the model and both states.

=========  ===============================  ==============================================
from       to                               why
=========  ===============================  ==============================================
COLD       WARMING                          an allocation or a prewarm starts loading
WARMING    HOT                              the loader returned a model
WARMING    FAILED                           the loader raised
WARMING    COLD                             a prewarm found no room without evicting a
                                            model in use or predicted (gave up, no load)
HOT        COOLING                          LRU eviction, idle timeout, shutdown
HOT        FAILED                           a hosted model died or missed heartbeats
COOLING    COLD                             the model was closed and its memory released
FAILED     WARMING                          restart (within the restart budget)
FAILED     COLD                             given up / shutdown (the model stays usable
                                            later: the next allocation warms it again)
=========  ===============================  ==============================================
"""

from __future__ import annotations

import enum
from typing import Final

from symphony.commons.errors import InvalidStateTransition

__all__ = ["TRANSITIONS", "ModelState", "check_transition"]


class ModelState(enum.StrEnum):
    """Where a pooled model is in its life."""

    COLD = "cold"
    WARMING = "warming"
    HOT = "hot"
    COOLING = "cooling"
    FAILED = "failed"


TRANSITIONS: Final[frozenset[tuple[ModelState, ModelState]]] = frozenset(
    {
        (ModelState.COLD, ModelState.WARMING),
        (ModelState.WARMING, ModelState.HOT),
        (ModelState.WARMING, ModelState.FAILED),
        (ModelState.WARMING, ModelState.COLD),
        (ModelState.HOT, ModelState.COOLING),
        (ModelState.HOT, ModelState.FAILED),
        (ModelState.COOLING, ModelState.COLD),
        (ModelState.FAILED, ModelState.WARMING),
        (ModelState.FAILED, ModelState.COLD),
    }
)
"""Every allowed ``(from, to)`` pair (see the module table)."""


def check_transition(model_id: str, old: ModelState, new: ModelState) -> ModelState:
    """Return ``new`` if ``old → new`` is in :data:`TRANSITIONS`, else raise.

    Raises:
        InvalidStateTransition: the pair is not in the table.
    """
    if (old, new) not in TRANSITIONS:
        raise InvalidStateTransition(
            f"model {model_id!r}: transition {old.value} -> {new.value} is not allowed",
            details={"model_id": model_id, "from": old.value, "to": new.value},
        )
    return new
