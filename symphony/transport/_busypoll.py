"""Busy-polling just before the trio loop goes to sleep, while a connection is *hot*.

On these machines (VMs), letting a process fall asleep in ``epoll_wait`` and waking it again
costs tens of microseconds on each side of a round trip; a reply on a busy connection is
usually a few microseconds away. So when the loop has nothing runnable and is about to
block (trio's ``before_io_wait`` instrument hook, whose ``timeout`` is 0 whenever a task
is runnable), :class:`BusyPoll` checks the parked receivers' probes in a short loop, with a
``sched_yield`` per pass so a spinning process gives its core to anything else that wants
it. As soon as a probe reports data it returns, and the loop's ``epoll_wait`` finds the
doorbell the producer rang and returns at once, without sleeping.

Only receivers that got a frame within their hot window take part, and each spins at most
its own budget, so an idle connection never costs CPU. Polling changes nothing the wake-up
protocol depends on (:meth:`Ring.readable <symphony.reference.ring.Ring.readable>` has no
side effects), so the bell is never lost; the loop only delays its sleep.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import Final

import trio

__all__ = ["SPIN_SECONDS", "SPIN_WINDOW", "BusyPoll", "busy_poll", "fd_probe"]

SPIN_SECONDS: Final = 100e-6
"""Default ``spin`` of the shm and stream transports: how long a hot receiver is busy-polled
before its process sleeps. Measured in ``symphony bench bus`` (docs/bus.md): it turns a
request/response round trip from two sleeps and wake-ups into two short polls. The cost is
CPU: at most this long per idle gap, only within :data:`SPIN_WINDOW` of the last frame, and
with a ``sched_yield`` per pass so other processes on the core go first."""

SPIN_WINDOW: Final = 0.002
"""A receiver counts as hot (is busy-polled) this long after its last frame."""

NEAR_MISS: Final = 2.0
"""A spin that missed but whose data came within this many budgets after it ended is a near
miss (the peer was asleep, not idle) and does not back off."""

CHECK_EVERY: Final = 0.02
"""Seconds between two looks at this process's CPU run-queue wait."""

CROWDED: Final = 0.05
"""No spinning while this process spent more than this fraction of the time since the last
look waiting for a CPU: on oversubscribed cores, wake-ups are cheap (no core idles) and a
spinner takes the CPU from the very peer whose reply it waits for."""

_RUNVAR: Final = trio.lowlevel.RunVar["BusyPoll | None"]("symphony_busy_poll", default=None)


class BusyPoll(trio.abc.Instrument):
    """The per-run busy-poll instrument (get it with :func:`busy_poll`).

    Attributes:
        spins: times the loop was about to sleep with a hot receiver parked.
        hits: spins that ended with data within the budget (a sleep and wake-up saved).
        skipped: sleeps taken without spinning: while backing off (after a spin whose
            data came more than a budget after it gave up, or that hit only after the
            process had lost its core, the next 8, 16, ... 1024 chances to spin are
            skipped), or while the cores are crowded (this process waited for a CPU more
            than :data:`CROWDED` of the time lately).
        near_misses: spins that missed but whose data came within :data:`NEAR_MISS`
            budgets: the peer was asleep itself (no backoff: once both spin, they hit).
        spun_ns: total time spent polling, in nanoseconds.
    """

    schedstat = "/proc/self/schedstat"
    """Where this process's scheduler statistics are read (run ns, run-queue wait ns, ...)."""

    def __init__(self) -> None:
        self._parked: dict[int, tuple[Callable[[], bool], float, float]] = {}
        self._flushes: list[Callable[[], None]] = []
        self.spins = 0
        self.hits = 0
        self.skipped = 0
        self.spun_ns = 0
        self._skip = 0
        self._backoff = 0
        self._missed: tuple[float, float] | None = None
        self.near_misses = 0
        self._crowded = False
        self._next_check = 0.0
        self._last_sched = (0.0, 0)

    def park(self, key: int, probe: Callable[[], bool], hot_until: float, budget: float) -> None:
        """Register a parked receiver: ``probe()`` is True once it has data; it is polled
        only until ``hot_until`` (``time.perf_counter`` seconds), for at most ``budget``
        seconds per sleep the loop is about to take."""
        self._parked[key] = (probe, hot_until, budget)

    def unpark(self, key: int) -> None:
        """Forget a receiver (it woke up, or stopped waiting)."""
        self._parked.pop(key, None)

    def flush_later(self, flush: Callable[[], None]) -> None:
        """Call ``flush()`` when the loop next stops running tasks (the end of the current
        scheduler batch), before it polls for I/O: how a stream transport writes all the
        frames its tasks sent during one batch with one system call."""
        self._flushes.append(flush)

    def before_io_wait(self, timeout: float) -> None:
        if self._flushes:
            flushes, self._flushes = self._flushes, []
            for flush in flushes:
                try:
                    flush()
                except Exception:  # a flush reports its own errors
                    continue
        if timeout <= 0 or not self._parked:
            return
        now = time.perf_counter()
        probes = []
        budget = 0.0
        for probe, hot_until, b in self._parked.values():
            if hot_until > now:
                probes.append(probe)
                budget = max(budget, b)
        if not probes:
            return
        if self._skip:
            self._skip -= 1
            self.skipped += 1
            return
        if now >= self._next_check:
            self._crowded = self._cpu_crowded(now)
        if self._crowded:
            self.skipped += 1
            return
        self.spins += 1
        budget = min(budget, timeout)
        end = now + budget
        yield_ = os.sched_yield
        clock = time.perf_counter
        hit = False
        try:
            while not hit:
                for probe in probes:
                    if probe():
                        hit = True
                        break
                else:
                    if clock() >= end:
                        break
                    yield_()
        except Exception:  # a probe on a connection closed meanwhile: just go to sleep
            pass
        spent = clock() - now
        self.spun_ns += int(spent * 1e9)
        if hit and spent <= budget:
            self.hits += 1
            self._backoff = 0
            return
        if not hit and budget >= timeout:
            return  # the loop's own deadline ended the spin, not the budget
        if not hit:
            # a miss: judged in after_io_wait by how much later the data came (a near miss
            # is a peer that was asleep itself; both spinning is what pays off then)
            self._missed = (clock(), budget)
            return
        self._back_off()  # a hit only after the process lost its core

    def after_io_wait(self, timeout: float) -> None:
        missed = self._missed
        if missed is not None:
            self._missed = None
            ended, budget = missed
            if time.perf_counter() - ended > NEAR_MISS * budget:
                self._back_off()  # the data came much later: spinning does not pay here now
            else:
                self.near_misses += 1

    def _back_off(self) -> None:
        """Skip the next 8, 16, ... 1024 chances to spin."""
        self._backoff = min(max(2 * self._backoff, 8), 1024)
        self._skip = self._backoff


    def _cpu_crowded(self, now: float) -> bool:
        """Whether this process waited for a CPU more than :data:`CROWDED` of the time since
        the last check (``/proc/self/schedstat``): then the cores are oversubscribed and a
        spinning process only delays the peer it is waiting for."""
        self._next_check = now + CHECK_EVERY
        try:
            with open(self.schedstat, "rb") as f:
                wait_ns = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            return False  # not Linux, or no schedstat: spin (bounded by the backoff)
        last_now, last_wait = self._last_sched
        self._last_sched = (now, wait_ns)
        if last_now == 0.0:
            return False
        return (wait_ns - last_wait) / 1e9 > CROWDED * (now - last_now)


def fd_probe(fd: int) -> Callable[[], bool]:
    """A probe for :meth:`BusyPoll.park`: True once ``fd`` is readable (one ``poll(2)``
    with a zero timeout per call)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    check = poller.poll

    def probe() -> bool:
        return bool(check(0))

    return probe


def busy_poll() -> BusyPoll:
    """The busy-poll instrument of the current trio run, installed on first use."""
    inst = _RUNVAR.get()
    if inst is None:
        inst = BusyPoll()
        trio.lowlevel.add_instrument(inst)
        _RUNVAR.set(inst)
    return inst
