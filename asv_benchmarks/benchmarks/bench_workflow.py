"""Workflows: validation end to end, ordering, documents, the template library."""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from .common import IMPLS


def _setup_kernel(impl: str) -> None:
    try:
        from symphony.workflow import _kernel
    except ImportError as exc:
        raise NotImplementedError("no symphony.workflow at this commit") from exc
    pkg = {"cython": "symphony._core", "python": "symphony.reference"}[impl]
    try:
        _kernel.toposort = importlib.import_module(f"{pkg}.toposort")
    except ImportError as exc:
        raise NotImplementedError(f"no {impl} toposort at this commit") from exc


class ValidateCold:
    """The full validation pipeline on a freshly built model (nothing cached)."""

    params = (IMPLS, [(1000, 5000), (10_000, 50_000)])
    param_names = ("impl", "size")
    number = 1
    repeat = 7
    warmup_time = 0.0  # a warm-up call would fill the caches this benchmark must not see

    def setup(self, impl: str, size: tuple[int, int]) -> None:
        _setup_kernel(impl)
        from symphony.workflow.synthetic import random_workflow

        self.wf = random_workflow(*size, seed=1)

    def time_validate(self, impl: str, size: tuple[int, int]) -> None:
        from symphony.workflow.validation import validate

        validate(self.wf)


class ValidateAfterEdit:
    """Validation of a new Workflow that shares its node objects with a validated one."""

    params = (IMPLS, [(10_000, 50_000)])
    param_names = ("impl", "size")

    def setup(self, impl: str, size: tuple[int, int]) -> None:
        _setup_kernel(impl)
        from symphony.workflow.synthetic import random_workflow

        self.wf = random_workflow(*size, seed=1)
        self.wf.validate()

    def time_validate(self, impl: str, size: tuple[int, int]) -> None:
        from symphony.workflow.model import Workflow

        Workflow(id=self.wf.id, nodes=self.wf.nodes, edges=self.wf.edges).validate()

    def time_topological_order(self, impl: str, size: tuple[int, int]) -> None:
        from symphony.workflow.model import Workflow

        Workflow(id=self.wf.id, nodes=self.wf.nodes, edges=self.wf.edges).topological_order()


class Documents:
    params = (1000, 10_000)
    param_names = ("nodes",)

    def setup(self, nodes: int) -> None:
        try:
            from symphony.workflow import serialize
            from symphony.workflow.synthetic import random_workflow
        except ImportError as exc:
            raise NotImplementedError("no symphony.workflow at this commit") from exc
        self.s = serialize
        self.wf = random_workflow(nodes, nodes * 5, seed=1)
        self.json = serialize.dumps_json(self.wf, indent=None)
        self.bin = serialize.dumps_msgpack(self.wf)

    def time_dumps_json(self, nodes: int) -> None:
        self.s.dumps_json(self.wf, indent=None)

    def time_loads_json(self, nodes: int) -> None:
        self.s.loads_json(self.json)

    def time_dumps_msgpack(self, nodes: int) -> None:
        self.s.dumps_msgpack(self.wf)

    def time_loads_msgpack(self, nodes: int) -> None:
        self.s.loads_msgpack(self.bin)

    def track_msgpack_over_compact_json(self, nodes: int) -> float:
        return len(self.bin) / len(self.json.encode())

    track_msgpack_over_compact_json.unit = "ratio"  # type: ignore[attr-defined]


class TemplateLibrary:
    """1,000 template names x 2 versions on disk."""

    timeout = 120

    def setup(self) -> None:
        try:
            from symphony.bench.workflow import write_template_library
            from symphony.workflow.templates import TemplateLibrary as Lib
        except ImportError as exc:
            raise NotImplementedError("no symphony.workflow at this commit") from exc
        self.Lib = Lib
        self.root = Path(tempfile.mkdtemp(prefix="symphony-asv-templates-"))
        write_template_library(self.root, 1000)
        self.lib = Lib()
        self.lib.load_dir(self.root)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def time_load_dir(self) -> None:
        self.Lib().load_dir(self.root)

    def time_get_latest(self) -> None:
        self.lib.get("tpl-00500")

    def time_search_tags(self) -> None:
        self.lib.search(tags=["even", "group4"])

    def time_search_text(self) -> None:
        self.lib.search("number 12")

    def time_instantiate(self) -> None:
        self.lib.get("tpl-00500").instantiate({"depth": 3})
