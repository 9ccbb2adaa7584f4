"""The busy-poll instrument: spins only for hot receivers while the loop would sleep, stops at
the first probe with data, and backs off when spinning does not pay."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import trio

from symphony.transport._busypoll import BusyPoll, busy_poll, fd_probe


def _probe_after(k: int) -> tuple[list[int], object]:
    calls = [0]

    def probe() -> bool:
        calls[0] += 1
        return calls[0] > k

    return calls, probe


def _calm() -> BusyPoll:
    """An instrument that never finds the cores crowded (the test machine may be busy)."""
    bp = BusyPoll()
    bp._cpu_crowded = lambda now: False  # type: ignore[method-assign]
    return bp


def test_spins_until_a_probe_has_data() -> None:
    bp = _calm()
    calls, probe = _probe_after(3)
    bp.park(1, probe, time.perf_counter() + 1.0, 0.5)  # type: ignore[arg-type]
    bp.before_io_wait(1.0)
    assert calls[0] == 4
    assert (bp.spins, bp.hits, bp.skipped) == (1, 1, 0)


def test_no_spin_when_runnable_cold_or_unparked() -> None:
    bp = _calm()
    bp.before_io_wait(1.0)  # nobody parked
    calls, probe = _probe_after(0)
    bp.park(1, probe, time.perf_counter() - 1.0, 0.5)  # type: ignore[arg-type]
    bp.before_io_wait(1.0)  # parked but cold
    bp.park(2, probe, time.perf_counter() + 1.0, 0.5)  # type: ignore[arg-type]
    bp.before_io_wait(0.0)  # a task is runnable: the loop will not sleep
    assert calls[0] == 0 and bp.spins == 0
    bp.unpark(2)
    bp.unpark(2)  # idempotent
    bp.before_io_wait(1.0)
    assert calls[0] == 0 and bp.spins == 0


def test_a_far_miss_backs_off_a_near_miss_does_not_and_a_hit_resets() -> None:
    bp = _calm()
    state = {"ready": False}
    bp.park(1, lambda: state["ready"], time.perf_counter() + 60, 1e-4)

    def miss(data_after: float) -> None:
        bp.before_io_wait(1.0)  # spins 100 µs, misses
        time.sleep(data_after)  # ...the loop sleeps until the data comes
        bp.after_io_wait(1.0)

    miss(0.0)  # data right after the spin gave up: the peer was asleep, keep spinning
    assert (bp.spins, bp.hits, bp.near_misses, bp.skipped) == (1, 0, 1, 0)
    miss(0.01)  # data 10 ms later: spinning does not pay here, back off 8
    assert bp.spins == 2
    for _ in range(8):
        bp.before_io_wait(1.0)
        bp.after_io_wait(1.0)
    assert bp.skipped == 8 and bp.spins == 2
    miss(0.01)  # backoff over: spins (and misses far) again; next backoff is 16
    assert bp.spins == 3
    for _ in range(16):
        bp.before_io_wait(1.0)
    assert bp.skipped == 24 and bp.spins == 3
    state["ready"] = True
    bp.before_io_wait(1.0)
    assert (bp.spins, bp.hits) == (4, 1)
    state["ready"] = False
    miss(0.01)  # a hit reset the backoff: the next far miss backs off 8 again, not 32
    for _ in range(8):
        bp.before_io_wait(1.0)
    assert bp.skipped == 32
    bp.before_io_wait(1.0)
    assert bp.spins == 6


def test_budget_is_capped_by_the_loop_timeout() -> None:
    bp = _calm()
    bp.park(1, lambda: False, time.perf_counter() + 60, 10.0)
    t0 = time.perf_counter()
    bp.before_io_wait(0.002)
    assert time.perf_counter() - t0 < 1.0  # not the 10 s budget


def test_a_failing_probe_never_breaks_the_loop() -> None:
    bp = _calm()

    def broken() -> bool:
        raise OSError("closed meanwhile")

    bp.park(1, broken, time.perf_counter() + 60, 0.01)
    bp.before_io_wait(1.0)
    assert bp.hits == 0 and bp.spins == 1


def test_fd_probe() -> None:
    a, b = socket.socketpair()
    try:
        probe = fd_probe(b.fileno())
        assert probe() is False
        a.send(b"x")
        assert probe() is True
        b.recv(1)
        assert probe() is False
    finally:
        a.close()
        b.close()


def test_no_spin_while_this_process_waits_for_a_cpu(tmp_path: Path) -> None:
    stat = tmp_path / "schedstat"
    bp = BusyPoll()
    bp.schedstat = str(stat)
    _, probe = _probe_after(0)
    bp.park(1, probe, time.perf_counter() + 60, 0.01)  # type: ignore[arg-type]
    stat.write_text("1000 0 5\n")
    bp.before_io_wait(1.0)  # first look: no history, spins
    assert (bp.spins, bp.hits) == (1, 1)
    bp._next_check = 0.0
    time.sleep(0.01)
    stat.write_text(f"1000 {10**9} 6\n")  # waited a whole second for a CPU since then
    bp.before_io_wait(1.0)
    assert bp.spins == 1 and bp.skipped == 1
    bp.before_io_wait(1.0)  # until the next look, still crowded
    assert bp.skipped == 2
    bp._next_check = 0.0
    bp.before_io_wait(1.0)  # no more waiting since: spins again
    assert (bp.spins, bp.hits) == (2, 2)
    stat.unlink()
    bp._next_check = 0.0
    bp.before_io_wait(1.0)  # no schedstat at all: spins (the backoff still bounds it)
    assert bp.spins == 3


async def test_one_instrument_per_run_and_it_runs() -> None:
    bp = busy_poll()
    assert busy_poll() is bp
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    try:
        calls = [0]
        probe = fd_probe(b.fileno())

        def counting() -> bool:
            calls[0] += 1
            return probe()

        bp.park(7, counting, time.perf_counter() + 60, 0.001)

        async def writer() -> None:
            await trio.sleep(0.005)
            a.send(b"x")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            await trio.lowlevel.wait_readable(b)
        bp.unpark(7)
        assert calls[0] > 0  # the loop consulted it before sleeping
        assert bp.spins > 0
    finally:
        a.close()
        b.close()
