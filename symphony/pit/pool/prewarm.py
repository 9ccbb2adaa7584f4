"""Usage-pattern predictor for prewarming.

Two signals, combined by taking the higher score per model:

1. **Sequence (Markov) successors, per session.** Allocations carry an optional *session*
   (a workflow run, a user — whatever groups calls that follow each other; ``None`` is one
   shared session). Within a session, every allocation of ``c`` after ``b`` (itself after
   ``a``) within ``session_gap`` seconds counts the first-order transition ``b → c`` and the
   second-order one ``(a, b) → c``. Workflows call models in stable orders (tokenise →
   embed → rerank), so after a session uses ``b`` the predictor scores each model by
   ``P(c | a, b)`` — the second-order estimate once its context has ``min_context``
   observations, the first-order ``P(c | b)`` before that — and follows the chain up to
   ``depth`` steps ahead, a path scoring the product of its probabilities (so a load slower
   than one step still finishes in time). Counts decay by ``decay`` per observation of
   their context, so changed patterns are unlearned.
2. **Inter-arrival EWMA (periodic use).** For each model, the exponentially weighted mean
   ``μ`` of the times between its allocations (weight ``alpha``). A model whose next
   expected arrival ``last + μ`` is near ``now + horizon/2`` scores
   ``1 - |now + horizon/2 - (last + μ)| / horizon`` (clamped), once seen ``min_samples``
   times.

:meth:`Predictor.predict` returns models scoring at least ``threshold``, best first. The
pool warms them in the background when they fit in the memory budget without evicting a
model in use or one predicted. Work per observation is O(successors of the context); the
pool records observations on its fast path into a deque and feeds them here from its
service task.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

__all__ = ["Predictor"]


@dataclass(slots=True)
class _Counts:
    successors: dict[str, float] = field(default_factory=dict)
    total: float = 0.0

    def add(self, b: str, decay: float) -> None:
        for k in self.successors:
            self.successors[k] *= decay
        self.total = self.total * decay + 1.0
        self.successors[b] = self.successors.get(b, 0.0) + 1.0


@dataclass(slots=True)
class _Arrivals:
    last: float = -1.0
    mean_gap: float = 0.0
    samples: int = 0


class Predictor:
    """Per-session Markov successors (1st/2nd order) plus per-model inter-arrival EWMA."""

    def __init__(
        self,
        *,
        alpha: float = 0.3,
        session_gap: float = 30.0,
        decay: float = 0.98,
        horizon: float = 5.0,
        threshold: float = 0.25,
        min_samples: int = 3,
        min_context: float = 3.0,
        depth: int = 2,
        max_sessions: int = 256,
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"predictor alpha={alpha} must be in (0, 1]")
        if depth < 1:
            raise ValueError(f"predictor depth={depth} must be >= 1")
        self.alpha, self.session_gap, self.decay = alpha, session_gap, decay
        self.horizon, self.threshold, self.min_samples = horizon, threshold, min_samples
        self.min_context, self.depth, self.max_sessions = min_context, depth, max_sessions
        self._arrivals: dict[str, _Arrivals] = {}
        self._first: dict[str, _Counts] = {}
        self._second: dict[tuple[str, str], _Counts] = {}
        # session -> (model before last, last model, time of last)
        self._sessions: OrderedDict[Hashable, tuple[str | None, str, float]] = OrderedDict()

    def observe(self, model_id: str, t: float, session: Hashable = None) -> None:
        """Record one allocation of ``model_id`` at time ``t`` in ``session``."""
        st = self._arrivals.get(model_id)
        if st is None:
            st = self._arrivals[model_id] = _Arrivals()
        if st.last >= 0.0:
            gap = t - st.last
            a = self.alpha
            st.mean_gap = gap if st.samples == 0 else (1 - a) * st.mean_gap + a * gap
            st.samples += 1
        st.last = t
        prev = self._sessions.pop(session, None)
        before: str | None = None
        if prev is not None and t - prev[2] <= self.session_gap and prev[1] != model_id:
            p0, p1, _ = prev
            self._first.setdefault(p1, _Counts()).add(model_id, self.decay)
            if p0 is not None:
                self._second.setdefault((p0, p1), _Counts()).add(model_id, self.decay)
            before = p1
        elif prev is not None and prev[1] == model_id:
            before = prev[0]
        self._sessions[session] = (before, model_id, t)
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)

    def _dist(self, a: str | None, b: str) -> dict[str, float]:
        if a is not None:
            c2 = self._second.get((a, b))
            if c2 is not None and c2.total >= self.min_context:
                return {k: v / c2.total for k, v in c2.successors.items()}
        c1 = self._first.get(b)
        if c1 is None or c1.total <= 0.0:
            return {}
        return {k: v / c1.total for k, v in c1.successors.items()}

    def successor_probability(self, a: str, b: str) -> float:
        """Learned first-order ``P(b | a)``."""
        return self._dist(None, a).get(b, 0.0)

    def predict(self, now: float) -> list[tuple[str, float]]:
        """``(model_id, score)`` with score ≥ threshold, best first."""
        scores: dict[str, float] = {}
        thr = self.threshold
        for before, last, t in self._sessions.values():
            if now - t > self.session_gap:
                continue
            frontier: dict[tuple[str | None, str], float] = {(before, last): 1.0}
            for _ in range(self.depth):
                nxt: dict[tuple[str | None, str], float] = {}
                for (a, b), pa in frontier.items():
                    for c, p in self._dist(a, b).items():
                        q = pa * p
                        if q >= thr and q > nxt.get((b, c), 0.0):
                            nxt[(b, c)] = q
                for (_, c), q in nxt.items():
                    if q > scores.get(c, 0.0):
                        scores[c] = q
                frontier = nxt
        h = self.horizon
        for mid, st in self._arrivals.items():
            if st.samples < self.min_samples or st.mean_gap <= 0.0:
                continue
            score = 1.0 - abs(now + h / 2 - (st.last + st.mean_gap)) / h
            if score > scores.get(mid, 0.0):
                scores[mid] = score
        out = [(m, s) for m, s in scores.items() if s >= thr]
        out.sort(key=lambda ms: (-ms[1], ms[0]))
        return out

    def summary(self) -> dict[str, dict[str, float]]:
        """Per model: samples, mean inter-arrival gap, most likely successor's probability."""
        out: dict[str, dict[str, float]] = {}
        for mid, st in self._arrivals.items():
            d = self._dist(None, mid)
            out[mid] = {
                "samples": float(st.samples),
                "mean_gap_s": st.mean_gap,
                "top_successor_p": max(d.values(), default=0.0),
            }
        return out
