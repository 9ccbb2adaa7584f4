"""Child process for the SIGKILL and multi-process tests (run with sys.executable).

_artifact_child.py put ROOT NAME SEED COUNT   -> prints "<i> <id>" after each put returns
_artifact_child.py pause ROOT NAME SEED COUNT -> the same, then one more put that stops
                                                 inside its commit transaction (after its
                                                 chunks are in the pack), prints PAUSED
                                                 and waits to be killed
"""

from __future__ import annotations

import random
import sys
import time

from symphony.pit.artifacts import ArtifactStore


def content(seed: int, i: int) -> bytes:
    rng = random.Random(seed * 100_003 + i)
    size = rng.choice([100, 3000, 20_000, 70_000, 250_000])
    base = random.Random(seed).randbytes(300_000)  # shared: dedup across versions
    return base[: size // 2] + rng.randbytes(size - size // 2)


def stalled_content(seed: int) -> bytes:
    """What the ``pause`` put tries to store: fresh random bytes, so its chunks go to a pack."""
    return random.Random(seed + 999).randbytes(200_000)


def main() -> int:
    _, cmd, root, name, seed, count = sys.argv
    assert cmd in ("put", "pause")
    with ArtifactStore(root) as store:
        for i in range(int(count)):
            ref = store.put(content(int(seed), i), name=name, producer=f"child{seed}")
            sys.stdout.write(f"{i} {ref.id}\n")
            sys.stdout.flush()
        if cmd == "pause":
            real = store._db

            class Stalling:  # forwards to the connection; stalls before the artifact row
                def execute(self, sql: str, *args: object) -> object:
                    if sql.startswith("INSERT OR IGNORE INTO artifacts"):
                        sys.stdout.write("PAUSED\n")
                        sys.stdout.flush()
                        time.sleep(60)
                    return real.execute(sql, *args)

                def executemany(self, sql: str, rows: object) -> object:
                    return real.executemany(sql, rows)  # type: ignore[arg-type]

            store._db = Stalling()  # type: ignore[assignment]
            store.put(stalled_content(int(seed)), name=name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
