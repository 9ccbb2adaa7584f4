"""Pre-validation (symphony.commons.prevalidation): the seed's budget is < 1 ms per record.

Not a kernel (no Cython twin), so not parametrized over the implementation. Peers are
compared side by side by ``symphony bench prevalidation``; asv tracks Symphony alone.
"""

from __future__ import annotations

from typing import Any, ClassVar


def _bench() -> Any:
    try:
        from symphony.bench import prevalidation
    except ImportError as exc:  # an old commit without pre-validation
        raise NotImplementedError("no symphony.bench.prevalidation at this commit") from exc
    return prevalidation


class Record:
    """One typical request record (9 fields, 17 checks), valid and with every field wrong."""

    params = (["valid", "every field wrong"], ["Validator", "validate()"])
    param_names: ClassVar[list[str]] = ["record", "api"]

    def setup(self, record: str, api: str) -> None:
        b = _bench()
        pv = b.pv
        self.record = b.good_record() if record == "valid" else b.bad_record()
        rules = b.make_rules()
        if api == "Validator":
            self.check = pv.Validator(rules).failures
        else:
            self.check = lambda r: pv.collect_failures(r, rules)

    def time_check(self, record: str, api: str) -> None:
        self.check(self.record)

    def track_budget_fraction(self, record: str, api: str) -> float:
        """Fraction of the seed's 1 ms budget one check uses (median of 200 runs)."""
        import statistics
        import time

        samples = []
        for _ in range(200):
            t0 = time.perf_counter()
            self.check(self.record)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples) / 1e-3

    track_budget_fraction.unit = "fraction of 1 ms"  # type: ignore[attr-defined]


class SingleRule:
    """One rule check on a passing value (and one failing pattern)."""

    params: ClassVar[list[str]] = [
        "non_empty",
        "pattern",
        "length",
        "max_size",
        "in_range",
        "one_of",
        "of_type",
        "all_of(3)",
        "each(3)",
        "pattern, failing",
    ]
    param_names: ClassVar[list[str]] = ["rule"]

    def setup(self, rule: str) -> None:
        b = _bench()
        table: dict[str, tuple[Any, object]] = {}
        for name, r, v in b._single_rules():
            table.setdefault(name.split(" (")[0], (r, v))  # max_size: the 512-char case
        table["each(3)"] = table["each(3) of length"]
        self.rule, self.value = table[rule]

    def time_check(self, rule: str) -> None:
        self.rule.check(self.value)


class Compile:
    """Building a Validator (code generation) for the typical record's rules."""

    def setup(self) -> None:
        self.b = _bench()
        self.rules = self.b.make_rules()

    def time_build_validator(self) -> None:
        self.b.pv.Validator(self.rules)
