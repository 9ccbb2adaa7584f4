"""Each kernel's ``.pyi`` stub describes the compiled module AND its pure-Python twin (issue 11).

For every kernel in :data:`symphony.kernels.KERNELS` (plus any other ``symphony/_core/*.pyi``
with a ``symphony/reference`` twin), the stub is parsed with :mod:`ast` and checked against
``inspect`` of both modules: the same public names, and for every function, method,
classmethod and property in the stub the same parameter names, kinds and defaults
(``binding`` + ``embedsignature`` make the Cython signatures introspectable). A stub default
of ``...`` only requires that the runtime has a default.

The stub's annotations must also equal the twin's, word for word (the twin is the
specification; the compiled module carries no annotations of its own). This pins what mypy
cannot see: that the stub is true of the objects that run.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import symphony
import symphony.kernels

CORE = Path(symphony.__file__).resolve().parent / "_core"
REFERENCE = CORE.parent / "reference"
KERNELS = sorted(
    set(symphony.kernels.KERNELS)
    | {p.stem for p in CORE.glob("*.pyi") if (REFERENCE / f"{p.stem}.py").exists()}
)

_ANY_DEFAULT = object()  # the stub wrote `= ...`
_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    name: str
    kind: inspect._ParameterKind
    default: Any  # _NO_DEFAULT, _ANY_DEFAULT or the literal value

    def render(self) -> str:
        if self.default is _NO_DEFAULT:
            return f"{self.kind.description} {self.name}"
        shown = "..." if self.default is _ANY_DEFAULT else repr(self.default)
        return f"{self.kind.description} {self.name}={shown}"


@dataclass(frozen=True)
class StubFunc:
    name: str
    params: tuple[Param, ...]
    is_async: bool
    decorators: frozenset[str]


@dataclass(frozen=True)
class Stub:
    names: frozenset[str]  # public names (``__all__`` when the stub declares it)
    declares_all: bool
    functions: dict[str, StubFunc]
    classes: dict[str, dict[str, StubFunc]]


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return _ANY_DEFAULT
    return ast.literal_eval(node)


def _stub_params(args: ast.arguments) -> tuple[Param, ...]:
    P = inspect.Parameter
    out: list[Param] = []
    positional = [(a, P.POSITIONAL_ONLY) for a in args.posonlyargs]
    positional += [(a, P.POSITIONAL_OR_KEYWORD) for a in args.args]
    pad = [None] * (len(positional) - len(args.defaults))
    for (arg, kind), dflt in zip(positional, pad + list(args.defaults)):
        out.append(Param(arg.arg, kind, _NO_DEFAULT if dflt is None else _literal(dflt)))
    if args.vararg is not None:
        out.append(Param(args.vararg.arg, P.VAR_POSITIONAL, _NO_DEFAULT))
    for arg, kdflt in zip(args.kwonlyargs, args.kw_defaults):
        out.append(
            Param(arg.arg, P.KEYWORD_ONLY, _NO_DEFAULT if kdflt is None else _literal(kdflt))
        )
    if args.kwarg is not None:
        out.append(Param(args.kwarg.arg, P.VAR_KEYWORD, _NO_DEFAULT))
    return tuple(out)


def _func(node: ast.FunctionDef | ast.AsyncFunctionDef) -> StubFunc:
    decorators = frozenset(ast.unparse(d).split(".")[-1] for d in node.decorator_list)
    return StubFunc(
        node.name, _stub_params(node.args), isinstance(node, ast.AsyncFunctionDef), decorators
    )


def parse_stub(path: Path) -> Stub:
    tree = ast.parse(path.read_text(), filename=str(path))
    defined: set[str] = set()
    all_names: list[str] | None = None
    functions: dict[str, StubFunc] = {}
    classes: dict[str, dict[str, StubFunc]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[node.name] = _func(node)
            defined.add(node.name)
        elif isinstance(node, ast.ClassDef):
            members = {
                m.name: _func(m)
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            classes[node.name] = members
            defined.add(node.name)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            all_names = list(ast.literal_eval(node.value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if ast.unparse(node.annotation) != "TypeAlias":  # aliases exist only for mypy
                defined.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            # `from x import y as y` is an explicit re-export (PEP 484)
            defined.update(a.name for a in node.names if a.asname == a.name)
    public = {n for n in defined if not n.startswith("_")}
    if all_names is not None:
        return Stub(frozenset(all_names), True, functions, classes)
    return Stub(frozenset(public), False, functions, classes)


def _from_embedded(doc: str, qualname: str, module: ModuleType) -> list[Param] | None:
    """Parameters from Cython's embedsignature first docstring line ``Name(a, b=X)``."""
    first = doc.split("\n", 1)[0].strip()
    if not first.startswith(f"{qualname}("):
        return None
    fn = ast.parse(f"def f{first[len(qualname) :]}: pass").body[0]
    assert isinstance(fn, ast.FunctionDef)
    params = []
    for p in _stub_params_runtime(fn.args, module):
        params.append(p)
    return params


def _stub_params_runtime(args: ast.arguments, module: ModuleType) -> list[Param]:
    """Like :func:`_stub_params`, but names in defaults are looked up in ``module``."""
    out: list[Param] = []
    for p, node in zip(_stub_params(_strip_defaults(args)), _defaults_in_order(args), strict=True):
        if node is None:
            out.append(p)
        elif isinstance(node, ast.Name):
            out.append(Param(p.name, p.kind, getattr(module, node.id)))
        else:
            out.append(Param(p.name, p.kind, ast.literal_eval(node)))
    return out


def _strip_defaults(args: ast.arguments) -> ast.arguments:
    return ast.arguments(
        posonlyargs=args.posonlyargs,
        args=args.args,
        vararg=args.vararg,
        kwonlyargs=args.kwonlyargs,
        kw_defaults=[None] * len(args.kwonlyargs),
        kwarg=args.kwarg,
        defaults=[],
    )


def _defaults_in_order(args: ast.arguments) -> list[ast.expr | None]:
    positional = args.posonlyargs + args.args
    out: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    out += list(args.defaults)
    if args.vararg is not None:
        out.append(None)
    out += list(args.kw_defaults)
    if args.kwarg is not None:
        out.append(None)
    return out


def runtime_params(obj: Any, *, owner: type | None, module: ModuleType) -> list[Param]:
    if owner is not None and obj is object.__init__:
        return [Param("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, _NO_DEFAULT)]
    if owner is not None and type(obj).__name__ == "wrapper_descriptor":
        # a cdef class __init__ (a slot): embedsignature put `Class(...)` on the class
        found = _from_embedded(owner.__doc__ or "", owner.__name__, module)
        assert found is not None, f"{owner.__qualname__}.__init__ has no embedded signature"
        return [Param("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, _NO_DEFAULT), *found]
    sig = inspect.signature(obj)
    return [Param(p.name, p.kind, p.default) for p in sig.parameters.values()]


def assert_same_params(
    stub: StubFunc, params: list[Param], where: str, *, drop_first: bool = False
) -> None:
    want = list(stub.params[1:] if drop_first else stub.params)
    got = list(params)
    w_s, g_s = ", ".join(p.render() for p in want), ", ".join(p.render() for p in got)
    shown = f"stub ({w_s}) vs {where} ({g_s})"
    assert [(p.name, p.kind) for p in want] == [(p.name, p.kind) for p in got], shown
    for w, g in zip(want, got):
        assert (w.default is _NO_DEFAULT) == (g.default is _NO_DEFAULT), shown
        if w.default not in (_NO_DEFAULT, _ANY_DEFAULT):
            assert w.default == g.default, shown


def _is_property(cls: type, name: str) -> bool:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            raw = klass.__dict__[name]
            return isinstance(raw, property) or type(raw).__name__ == "getset_descriptor"
    return False


def _raw(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    raise AttributeError(name)


def check_function(stub: StubFunc, fn: Any, where: str, module: ModuleType) -> None:
    assert callable(fn), f"{where} is not callable"
    assert inspect.iscoroutinefunction(fn) == stub.is_async, f"{where}: async differs"
    assert_same_params(stub, runtime_params(fn, owner=None, module=module), where)


def check_member(stub: StubFunc, cls: type, where: str, module: ModuleType) -> None:
    assert hasattr(cls, stub.name), f"{where} is missing"
    raw = _raw(cls, stub.name)
    if "property" in stub.decorators:
        assert _is_property(cls, stub.name), f"{where} is not a property"
        return
    if "classmethod" in stub.decorators:
        assert isinstance(raw, classmethod), f"{where} is not a classmethod"
        bound = getattr(cls, stub.name)
        assert_same_params(
            stub, runtime_params(bound, owner=None, module=module), where, drop_first=True
        )
        return
    if "staticmethod" in stub.decorators:
        assert isinstance(raw, staticmethod), f"{where} is not a staticmethod"
        check_function(stub, getattr(cls, stub.name), where, module)
        return
    fn = getattr(cls, stub.name)
    if not stub.name.startswith("__"):
        assert inspect.iscoroutinefunction(fn) == stub.is_async, f"{where}: async differs"
    if stub.name.startswith("__") and stub.name != "__init__":
        return  # other dunders: existence is the contract (slots have no signature)
    assert_same_params(stub, runtime_params(fn, owner=cls, module=module), where)


@pytest.fixture(scope="session", params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def _modules(kernel: str) -> tuple[Stub, ModuleType, ModuleType]:
    stub = parse_stub(CORE / f"{kernel}.pyi")
    compiled = importlib.import_module(f"symphony._core.{kernel}")
    twin = importlib.import_module(f"symphony.reference.{kernel}")
    return stub, compiled, twin


def test_the_kit_covers_every_listed_kernel() -> None:
    assert set(symphony.kernels.KERNELS) <= set(KERNELS)
    for k in KERNELS:
        assert (CORE / f"{k}.pyi").is_file(), f"{k}: no stub"
        assert (CORE / f"{k}.pxd").is_file(), f"{k}: no .pxd"


@pytest.mark.cython
def test_compiled_modules_are_extensions(kernel: str) -> None:
    mod = importlib.import_module(f"symphony._core.{kernel}")
    assert mod.__file__ is not None and mod.__file__.endswith(".so"), mod.__file__


@pytest.mark.cython
def test_stub_names_match_both_twins(kernel: str) -> None:
    stub, compiled, twin = _modules(kernel)
    assert stub.names, f"{kernel}.pyi declares no public name"
    twin_names = set(getattr(twin, "__all__", ()))
    assert twin_names, f"symphony.reference.{kernel} has no __all__"
    assert set(stub.names) == twin_names, f"{kernel}: stub {sorted(stub.names)} vs twin"
    if hasattr(compiled, "__all__"):
        assert set(compiled.__all__) == twin_names
    for name in stub.names:
        assert hasattr(compiled, name), f"symphony._core.{kernel}.{name} is missing"
        assert hasattr(twin, name), f"symphony.reference.{kernel}.{name} is missing"
    for name in stub.functions.keys() | stub.classes.keys():
        # private helpers in the stub (bench hooks) must exist in the compiled module
        assert hasattr(compiled, name), f"stub names symphony._core.{kernel}.{name}"


@pytest.mark.cython
def test_stub_signatures_match_both_twins(kernel: str) -> None:
    stub, compiled, twin = _modules(kernel)
    checked = 0
    for label, mod in (("cython", compiled), ("python", twin)):
        for name, fn in stub.functions.items():
            if label == "python" and name.startswith("_"):
                continue  # private hooks of the compiled module only
            check_function(fn, getattr(mod, name), f"{label} {kernel}.{name}", mod)
            checked += 1
        for cname, members in stub.classes.items():
            if label == "python" and cname.startswith("_"):
                continue
            cls = getattr(mod, cname)
            assert isinstance(cls, type), f"{label} {kernel}.{cname} is not a class"
            for member in members.values():
                check_member(member, cls, f"{label} {kernel}.{cname}.{member.name}", mod)
                checked += 1
    assert checked > 0


def test_the_checker_catches_a_wrong_stub(tmp_path: Path) -> None:
    """The comparison can fail: a renamed parameter, a lost default, a wrong kind."""
    from symphony.reference import checksum

    good = parse_stub(CORE / "checksum.pyi").functions["crc32c"]
    check_function(good, checksum.crc32c, "crc32c", checksum)
    for text in (
        "def crc32c(buf, value=0): ...",
        "def crc32c(data, value): ...",
        "def crc32c(data, *, value=0): ...",
        "def crc32c(data, value=1): ...",
        "async def crc32c(data, value=0): ...",
    ):
        (tmp_path / "bad.pyi").write_text(text)
        bad = parse_stub(tmp_path / "bad.pyi").functions["crc32c"]
        with pytest.raises(AssertionError):
            check_function(bad, checksum.crc32c, "crc32c", checksum)


def _annotation_pairs(nodes: list[ast.stmt], owner: Any) -> list[tuple[str, str, str]]:
    """(where, stub annotation, twin annotation) for every annotated public parameter and
    return of the stub, looked up on the twin (whose annotations are strings: PEP 563)."""
    out: list[tuple[str, str, str]] = []
    for n in nodes:
        if isinstance(n, ast.ClassDef) and hasattr(owner, n.name):
            out += _annotation_pairs(n.body, getattr(owner, n.name))
        if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if n.name.startswith("_") and n.name != "__init__":
            continue
        raw = inspect.getattr_static(owner, n.name, None)
        if raw is None:
            continue
        fn = raw.fget if isinstance(raw, property) else getattr(raw, "__func__", raw)
        sig = inspect.signature(fn)
        where = f"{getattr(owner, '__name__', owner)}.{n.name}"
        for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs:
            if a.annotation is not None and a.arg in sig.parameters:
                got = sig.parameters[a.arg].annotation
                out.append((f"{where}({a.arg})", ast.unparse(a.annotation), str(got)))
        if n.returns is not None:
            out.append((f"{where} ->", ast.unparse(n.returns), str(sig.return_annotation)))
    return out


def test_stub_annotations_are_the_twins(kernel: str) -> None:
    """The stub states the specification's types, word for word (mypy reads the stub, so a
    drift here would type-check callers against something the twin does not promise)."""
    twin = importlib.import_module(f"symphony.reference.{kernel}")
    tree = ast.parse((CORE / f"{kernel}.pyi").read_text())
    pairs = _annotation_pairs(tree.body, twin)
    assert pairs, f"{kernel}.pyi has no annotation to compare"
    bad = [p for p in pairs if p[1].replace(" ", "") != p[2].replace(" ", "")]
    assert bad == [], f"{kernel}: stub vs twin annotations differ: {bad}"
