"""Workflow templates (seed M5.4): a workflow document plus a parameter schema.

**Substitution syntax.** Anywhere in the workflow document — values, list items and object
keys, at any depth, so a parameter can set *any* workflow property (ids, names, versions,
tags, ports, types, operator configs, prompts, edges …):

* a string that is exactly ``"${name}"`` is replaced by the parameter's value, keeping its
  type (``"retries": "${retries}"`` becomes ``"retries": 3``);
* ``"${name}"`` inside a longer string is replaced by the value as text
  (``"report-${lang}.md"``); strings are inserted as they are, ``true``/``false``/``null``
  and numbers as JSON writes them, lists and objects as compact JSON;
* ``"$${"`` is a literal ``"${"``.

Every ``${name}`` must be a declared parameter (checked when the template is loaded).

**Parameter schema** (:class:`ParamSpec`): ``type`` (``str``, ``int``, ``float``,
``bool``, ``path``, ``list``, ``dict``, ``json``), ``default``, ``required`` (default: true
when there is no default), ``min``/``max`` (numbers: the value; ``str``/``path``/``list``:
the length), ``pattern`` (a regular expression the whole string must match), ``enum``
(allowed values) and ``description``.

:meth:`Template.instantiate` checks *every* parameter and raises one
:class:`TemplateParameterError` listing every bad one (unknown, missing, wrong type, out of
range …); with ``coerce=True`` string values (``symphony run --param k=v``) are converted
to the declared type first. The resulting workflow is validated as usual and records its
template, version and parameters in ``metadata.extra["template"]``.

**Files.** JSON or TOML with two sections::

    [template]
    name = "count-lines"
    version = "1.2.0"
    description = "Count lines per language"
    tags = ["stats", "files"]
    [template.parameters.root]
    type = "path"
    default = "."
    [workflow]            # a workflow document (any supported schema_version)
    schema_version = 2
    id = "count-lines-${root}"
    ...

:class:`TemplateLibrary` loads directories of such files and indexes them by name, version
and tag, so lookups and searches stay fast at thousands of templates.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from symphony.commons.errors import NotFoundError, ValidationError
from symphony.workflow.model import Version, Workflow
from symphony.workflow.serialize import FORMAT, WorkflowFormatError, from_dict, migrate

__all__ = [
    "PARAM_TYPES",
    "ParamSpec",
    "Template",
    "TemplateError",
    "TemplateLibrary",
    "TemplateParameterError",
    "coerce_param",
    "load_template",
    "parse_template",
    "substitute",
]

PARAM_TYPES = frozenset({"str", "int", "float", "bool", "path", "list", "dict", "json"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_WHOLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")


class TemplateError(ValidationError):
    """A template definition (or template file) is invalid; names the file and key."""


class TemplateParameterError(TemplateError):
    """Parameters given to :meth:`Template.instantiate` are invalid.

    ``failures`` lists *every* bad parameter as ``(name, message)``.
    """

    def __init__(self, message: str = "", *, failures: list[tuple[str, str]] | None = None):
        super().__init__(message, details={"failures": list(failures or [])})
        self.failures: list[tuple[str, str]] = list(failures or [])


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """One declared parameter (see the module docstring)."""

    name: str
    type: str = "str"
    default: object = None
    required: bool | None = None
    """``None`` means "required unless there is a default"."""
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    enum: tuple[object, ...] | None = None
    description: str = ""

    @property
    def is_required(self) -> bool:
        """Must the caller give a value?"""
        return self.default is None if self.required is None else self.required

    def check(self, value: object) -> list[str]:
        """Every way ``value`` breaks this spec (empty list: fine)."""
        errs: list[str] = []
        t = self.type
        ok = {
            "str": isinstance(value, str), "path": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool), "list": isinstance(value, list),
            "dict": isinstance(value, dict), "json": _is_json(value),
        }[t]
        if not ok:
            return [f"expected {t}, got {type(value).__name__} {value!r}"]
        if self.enum is not None and value not in self.enum:
            errs.append(f"{value!r} is not one of {list(self.enum)!r}")
        measure: float | None = None
        what = "value"
        if t in ("int", "float"):
            measure = value  # type: ignore[assignment]
        elif t in ("str", "path", "list"):
            measure, what = len(value), "length"  # type: ignore[arg-type]
        if measure is not None:
            if self.min is not None and measure < self.min:
                errs.append(f"{what} {measure} is below the minimum {self.min}")
            if self.max is not None and measure > self.max:
                errs.append(f"{what} {measure} is above the maximum {self.max}")
        if self.pattern is not None and isinstance(value, str) and not re.fullmatch(
            self.pattern, value
        ):
            errs.append(f"{value!r} does not match the pattern {self.pattern!r}")
        return errs


def _is_json(v: object, depth: int = 0) -> bool:
    if depth > 64:
        return False
    if v is None or isinstance(v, bool | int | float | str):
        return True
    if isinstance(v, list):
        return all(_is_json(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_json(x, depth + 1) for k, x in v.items())
    return False


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def coerce_param(spec: ParamSpec, text: str) -> object:
    """Convert command-line text to ``spec.type`` (``"3"`` → 3, ``"yes"`` → True …).

    Raises:
        ValueError: naming the parameter, the text and the type.
    """
    t = spec.type
    try:
        if t in ("str", "path"):
            return text
        if t == "int":
            return int(text)
        if t == "float":
            return float(text)
        if t == "bool":
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(text)
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"parameter {spec.name!r}: cannot read {text!r} as {t}") from None
    return value


# --------------------------------------------------------------------------- substitution
def _as_text(v: object) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _sub_str(s: str, values: Mapping[str, object]) -> object:
    m = _WHOLE.match(s)
    if m is not None:
        return values[m[1]]
    if "$" not in s:
        return s

    def rep(mm: re.Match[str]) -> str:
        if mm[0] == "$${":
            return "${"
        return _as_text(values[mm[1]])

    return _REF.sub(rep, s)


def substitute(doc: object, values: Mapping[str, object]) -> object:
    """``doc`` with every ``${name}`` replaced (syntax in the module docstring).

    Raises:
        KeyError: a referenced name is not in ``values``.
    """
    if isinstance(doc, str):
        return _sub_str(doc, values)
    if isinstance(doc, list):
        return [substitute(x, values) for x in doc]
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            nk = _sub_str(k, values) if isinstance(k, str) else k
            out[nk if isinstance(nk, str) else _as_text(nk)] = substitute(v, values)
        return out
    return doc


def references(doc: object) -> dict[str, str]:
    """Every ``${name}`` used in ``doc`` → the path of its first use (bad names included)."""
    found: dict[str, str] = {}
    stack: list[tuple[object, str]] = [(doc, "workflow")]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str):
            for m in _REF.finditer(v):
                if m[0] != "$${":
                    found.setdefault(m[1], path)
        elif isinstance(v, list):
            stack.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                if isinstance(k, str) and "${" in k:
                    for m in _REF.finditer(k):
                        if m[0] != "$${":
                            found.setdefault(m[1], f"{path}.{k}")
                stack.append((x, f"{path}.{k}"))
    return found


# --------------------------------------------------------------------------- template
@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A parameterised workflow document."""

    name: str
    version: Version
    document: Mapping[str, object] = field(hash=False)
    """The workflow document with ``${...}`` references (not yet validated as a workflow)."""
    parameters: tuple[ParamSpec, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()
    source: str = ""
    """Where it was loaded from (a path), for messages."""

    def param(self, name: str) -> ParamSpec | None:
        """The spec of parameter ``name``."""
        for p in self.parameters:
            if p.name == name:
                return p
        return None

    def resolve(self, values: Mapping[str, object], *, coerce: bool = False) -> dict[str, object]:
        """Check ``values`` against the schema and add defaults; reports every bad one.

        Raises:
            TemplateParameterError: with ``failures`` = every ``(name, problem)``.
        """
        failures: list[tuple[str, str]] = []
        known = {p.name for p in self.parameters}
        for name in values:
            if name not in known:
                failures.append((name, f"unknown parameter (known: "
                                       f"{', '.join(sorted(known)) or 'none'})"))
        out: dict[str, object] = {}
        for spec in self.parameters:
            if spec.name in values:
                v = values[spec.name]
                if coerce and isinstance(v, str) and spec.type not in ("str", "path"):
                    try:
                        v = coerce_param(spec, v)
                    except ValueError as exc:
                        failures.append((spec.name, str(exc).split(": ", 1)[1]))
                        continue
            elif spec.default is not None:
                v = spec.default
            elif spec.is_required:
                failures.append((spec.name, f"required parameter ({spec.type}) is missing"))
                continue
            else:
                v = None
            if v is not None:
                failures.extend((spec.name, msg) for msg in spec.check(v))
            out[spec.name] = v
        if failures:
            lines = "\n".join(f"  - {n}: {m}" for n, m in failures)
            raise TemplateParameterError(
                f"template {self.name!r} v{self.version}: {len(failures)} invalid "
                f"parameter{'s' if len(failures) != 1 else ''}:\n{lines}",
                failures=failures,
            )
        return out

    def instantiate(self, values: Mapping[str, object] | None = None, *,
                    coerce: bool = False, validate: bool = True) -> Workflow:
        """The workflow with ``values`` bound (defaults fill the rest).

        Raises:
            TemplateParameterError: every bad parameter at once.
            WorkflowFormatError: the substituted document is not a workflow document.
            WorkflowValidationError: the workflow is invalid (every problem), if ``validate``.
        """
        bound = self.resolve(values or {}, coerce=coerce)
        doc = substitute(self.document, bound)
        assert isinstance(doc, dict)
        meta = doc.setdefault("metadata", {})
        if isinstance(meta, dict):
            extra = meta.setdefault("extra", {})
            if isinstance(extra, dict):
                extra["template"] = {"name": self.name, "version": str(self.version),
                                     "parameters": {k: v for k, v in bound.items()
                                                    if v is not None}}
        try:
            wf = from_dict(doc)
        except WorkflowFormatError as exc:
            exc.with_context(f"instantiating template {self.name!r} v{self.version}")
            raise
        if validate:
            wf.check()
        return wf


def _spec(name: str, d: object, where: str) -> ParamSpec:
    if not _NAME.match(name):
        raise TemplateError(f"{where}: invalid parameter name {name!r} (letters, digits, _)")
    if not isinstance(d, dict):
        raise TemplateError(f"{where}: expected a table/object, got {type(d).__name__}")
    allowed = {"type", "default", "required", "min", "max", "pattern", "enum", "description"}
    extra = set(d) - allowed
    if extra:
        raise TemplateError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    t = d.get("type", "str")
    if t not in PARAM_TYPES:
        raise TemplateError(f"{where}.type: unknown parameter type {t!r} (known: "
                            f"{', '.join(sorted(PARAM_TYPES))})")
    for k in ("min", "max"):
        if k in d and (isinstance(d[k], bool) or not isinstance(d[k], int | float)):
            raise TemplateError(f"{where}.{k}: expected a number, got {d[k]!r}")
    if "required" in d and not isinstance(d["required"], bool):
        raise TemplateError(f"{where}.required: expected a boolean")
    pattern = d.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise TemplateError(f"{where}.pattern: bad regular expression {pattern!r}: "
                                f"{exc}") from None
    enum = d.get("enum")
    if enum is not None and not isinstance(enum, list):
        raise TemplateError(f"{where}.enum: expected a list")
    spec = ParamSpec(
        name=name, type=t, default=d.get("default"), required=d.get("required"),
        min=d.get("min"), max=d.get("max"), pattern=pattern,
        enum=tuple(enum) if enum is not None else None,
        description=str(d.get("description", "")),
    )
    if spec.default is not None:
        bad = spec.check(spec.default)
        if bad:
            raise TemplateError(f"{where}.default: {'; '.join(bad)}")
    return spec


def parse_template(data: Mapping[str, object], source: str = "<template>") -> Template:
    """Build a template from its parsed file (``{"template": {...}, "workflow": {...}}``).

    Raises:
        TemplateError: naming ``source`` and the key at fault.
    """
    if not isinstance(data, Mapping):
        raise TemplateError(f"{source}: expected an object with 'template' and 'workflow'")
    head, doc = data.get("template"), data.get("workflow")
    if not isinstance(head, dict):
        raise TemplateError(f"{source}: missing [template] table")
    if not isinstance(doc, dict):
        raise TemplateError(f"{source}: missing [workflow] table")
    extra = set(data) - {"template", "workflow"}
    if extra:
        raise TemplateError(f"{source}: unknown top-level key(s) {', '.join(sorted(extra))}")
    allowed = {"name", "version", "description", "tags", "parameters"}
    bad = set(head) - allowed
    if bad:
        raise TemplateError(f"{source}: template: unknown key(s) {', '.join(sorted(bad))}")
    name = head.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TemplateError(f"{source}: template.name must be a non-empty string")
    try:
        version = Version.parse(head.get("version", "0.1.0"))
    except ValidationError as exc:
        raise TemplateError(f"{source}: template.version: {exc.message}") from None
    tags = head.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TemplateError(f"{source}: template.tags must be a list of strings")
    params_d = head.get("parameters", {})
    if not isinstance(params_d, dict):
        raise TemplateError(f"{source}: template.parameters must be a table/object")
    params = tuple(
        _spec(k, v, f"{source}: template.parameters.{k}") for k, v in params_d.items()
    )
    declared = {p.name for p in params}
    for ref, path in sorted(references(doc).items()):
        if ref not in declared:
            raise TemplateError(f"{source}: {path}: ${{{ref}}} is not a declared parameter "
                                f"(declared: {', '.join(sorted(declared)) or 'none'})")
    if "schema_version" not in doc:
        raise TemplateError(f"{source}: workflow.schema_version is missing")
    try:
        if isinstance(doc.get("schema_version"), int):
            doc = migrate(doc)
    except WorkflowFormatError as exc:
        raise TemplateError(f"{source}: workflow: {exc.message}") from None
    return Template(name=name, version=version, document=doc, parameters=params,
                    description=str(head.get("description", "")), tags=tuple(tags),
                    source=source)


def load_template(path: str | Path) -> Template:
    """Read a ``.json`` or ``.toml`` template file.

    Raises:
        TemplateError: unreadable, unparsable, or an invalid definition (names the file).
    """
    p = Path(path)
    return parse_template(_read(p), str(p))


def _read(p: Path) -> dict[str, object]:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8")) if p.suffix == ".toml" else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{p}: not valid {p.suffix.lstrip('.').upper() or 'JSON'}: "
                            f"{exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{p}: expected an object with 'template' and 'workflow'")
    return data


# --------------------------------------------------------------------------- library
class TemplateLibrary:
    """Templates indexed by name, version and tag.

    ``get`` is a dict lookup (plus a cached "latest" per name); ``search`` intersects tag
    index sets before scanning the (lower-cased, precomputed) text of the survivors.
    """

    def __init__(self, templates: Iterable[Template] = ()):
        self._by_name: dict[str, dict[Version, Template]] = {}
        self._latest: dict[str, Template] = {}
        self._by_tag: dict[str, set[str]] = {}
        self._text: dict[str, str] = {}
        for t in templates:
            self.add(t)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_name.values())

    def __iter__(self) -> Iterator[Template]:
        for name in sorted(self._by_name):
            yield from (self._by_name[name][v] for v in sorted(self._by_name[name]))

    def names(self) -> list[str]:
        """Template names, sorted."""
        return sorted(self._by_name)

    def add(self, t: Template, *, replace: bool = False) -> None:
        """Add a template.

        Raises:
            TemplateError: the same name and version is already present (unless ``replace``).
        """
        versions = self._by_name.setdefault(t.name, {})
        if t.version in versions and not replace:
            old = versions[t.version]
            raise TemplateError(f"template {t.name!r} v{t.version} is defined twice "
                                f"({old.source or '?'} and {t.source or '?'})")
        versions[t.version] = t
        latest = self._latest.get(t.name)
        if latest is None or _rank(t.version) > _rank(latest.version) or (
            latest.version == t.version
        ):
            self._latest[t.name] = t
            for tags in self._by_tag.values():
                tags.discard(t.name)
            for tag in t.tags:
                self._by_tag.setdefault(tag, set()).add(t.name)
            self._text[t.name] = f"{t.name}\n{t.description}".lower()

    def load_dir(self, root: str | Path, *, recursive: bool = True,
                 strict: bool = True) -> list[TemplateError]:
        """Load every ``*.json`` and ``*.toml`` template under ``root``.

        Plain workflow documents (``"schema": "symphony.workflow"``, no ``template``
        section) found there are skipped: a directory may hold both.

        Returns the errors of files that failed (empty when all loaded). With ``strict``
        (default) they are raised together instead, as one :class:`TemplateError` listing
        every bad file; the good ones are added either way.
        """
        base = Path(root)
        if not base.is_dir():
            raise TemplateError(f"template directory {base} does not exist")
        pattern = "**/*" if recursive else "*"
        errors: list[TemplateError] = []
        for path in sorted(base.glob(pattern)):
            if path.suffix not in (".json", ".toml") or not path.is_file():
                continue
            try:
                data = _read(path)
                if "template" not in data and data.get("schema") == FORMAT:
                    continue
                self.add(parse_template(data, str(path)))
            except TemplateError as exc:
                errors.append(exc)
        if errors and strict:
            lines = "\n".join(f"  - {e.message}" for e in errors)
            raise TemplateError(f"{len(errors)} template file(s) under {base} are invalid:\n"
                                f"{lines}", details={"files": len(errors)})
        return errors

    def versions(self, name: str) -> list[Version]:
        """Every version of ``name``, ascending (empty if unknown)."""
        return sorted(self._by_name.get(name, {}))

    def get(self, name: str, version: str | Version | None = None) -> Template:
        """The template ``name`` at ``version`` (``None`` or ``"latest"``: the newest
        release, or the newest pre-release when there is no release).

        Raises:
            NotFoundError: unknown name or version (lists what exists).
        """
        versions = self._by_name.get(name)
        if not versions:
            raise NotFoundError(f"no template named {name!r}", details={"template": name})
        if version is None or version == "latest":
            return self._latest[name]
        try:
            v = Version.parse(version)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise NotFoundError(f"template {name!r}: {exc.message}") from None
        try:
            return versions[v]
        except KeyError:
            have = ", ".join(str(x) for x in sorted(versions))
            raise NotFoundError(f"template {name!r} has no version {v} (has: {have})",
                                details={"template": name}) from None

    def search(self, text: str = "", *, tags: Iterable[str] = (), any_tag: bool = False,
               limit: int | None = None) -> list[Template]:
        """Latest versions whose name or description contains ``text`` (case-insensitive)
        and that carry every tag in ``tags`` (any of them with ``any_tag``); by name."""
        tag_list = list(tags)
        if tag_list:
            sets = [self._by_tag.get(t, set()) for t in tag_list]
            names = set.union(*sets) if any_tag else set.intersection(*sets)
        else:
            names = set(self._latest)
        if text:
            needle = text.lower()
            names = {n for n in names if needle in self._text[n]}
        out = [self._latest[n] for n in sorted(names)]
        return out if limit is None else out[:limit]


def _rank(v: Version) -> tuple[int, Version]:
    """Releases rank above pre-releases; then semver order."""
    return (0 if v.prerelease else 1, v)
