"""Layered, typed configuration (the seed's "TOML + Figment").

Layers, each overriding the one before:

1. **packaged defaults** — the defaults of the section dataclasses below (code, not a file,
   so nothing can go missing from a wheel);
2. ``default.toml`` in the configuration directory;
3. ``<env>.toml`` — ``test.toml``, ``production.toml``, … — where the environment name comes
   from the ``env`` argument, else ``SYMPHONY_ENV``, else ``"default"`` (which reads only
   ``default.toml``);
4. environment variables ``SYMPHONY_<SECTION>__<KEY>`` (double underscore between section
   and key), e.g. ``SYMPHONY_LOGGING__LEVEL=DEBUG`` or ``SYMPHONY_LIMITS__MAX_READ_BYTES=1_000``,
   parsed to the key's declared type.

The configuration directory is the ``config_dir`` argument, else ``SYMPHONY_CONFIG_DIR``, else
the platform's user config directory (:func:`symphony.commons.fs.project_dirs`). Missing
files are skipped; :attr:`LoadedConfig.sources` lists the files actually read.

Each section is a frozen dataclass registered under a name with :func:`config_section`. The
four built-in sections are :class:`GeneralConfig` ``[general]``, :class:`LoggingConfig`
``[logging]``, :class:`PathsConfig` ``[paths]`` and :class:`LimitsConfig` ``[limits]``. A
later subsystem adds its own without touching this file::

    @config_section("transport")
    @dataclass(frozen=True, slots=True)
    class TransportConfig:
        max_frame: int = field(default=1 << 20, metadata=rules(in_range(1, 1 << 30)))
        socket_dir: Path | None = None

    cfg = load_config().config
    cfg.section(TransportConfig).max_frame

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``Path``, ``Literal[...]``,
``tuple[X, ...]`` of those, and ``X | None`` (an empty string means ``None``). Relative paths
in a file are relative to that file's directory; from the environment, to the working
directory. Extra checks per field are pre-validation rules in the field's metadata
(:func:`rules`).

Every problem — a value of the wrong type, a rule failure, an unknown key, broken TOML — is
collected and raised together as one :class:`~symphony.commons.errors.ConfigError` whose
message names the file (or environment variable), the ``[section] key``, the expected type and
the value found::

    /home/u/.config/symphony/default.toml: [logging] max_bytes: expected integer, found '10MB' (str)
"""

from __future__ import annotations

import dataclasses
import difflib
import json as _json
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, cast

from .errors import ConfigError, StorageError, StorageNotFound
from .fs import project_dirs, read_limited
from .prevalidation import PreValidationRule, in_range, length

__all__ = [
    "CONFIG_DIR_ENV_VAR",
    "ENV_NAME_ENV_VAR",
    "ENV_PREFIX",
    "MAX_CONFIG_FILE_BYTES",
    "Config",
    "GeneralConfig",
    "LimitsConfig",
    "LoadedConfig",
    "LogLevel",
    "LoggingConfig",
    "PathsConfig",
    "config_section",
    "default_toml",
    "load_config",
    "registered_sections",
    "rules",
    "section_name",
]

ENV_PREFIX = "SYMPHONY_"
"""Prefix of every environment override (``SYMPHONY_<SECTION>__<KEY>``)."""
ENV_NAME_ENV_VAR = "SYMPHONY_ENV"
"""Names the environment (``test``, ``production``, …) whose ``<env>.toml`` is layered on."""
CONFIG_DIR_ENV_VAR = "SYMPHONY_CONFIG_DIR"
"""Overrides the directory the TOML files are read from."""
MAX_CONFIG_FILE_BYTES = 1 << 20
"""A configuration file larger than this is refused (1 MiB)."""

_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
_ENV_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

T = TypeVar("T")

# --------------------------------------------------------------------------- registry
_SECTIONS: dict[str, type] = {}
_NAMES: dict[type, str] = {}


def config_section(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register a frozen dataclass as the ``[name]`` section.

    Register at import time of the module that owns the section. Re-registering the same
    class (or a class of the same qualified name, e.g. after a reload) is allowed; a second,
    different class for one name is a ``ValueError``.
    """
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"config section name {name!r} must match [a-z][a-z0-9_]*")

    def register(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"config section {name!r}: {cls.__qualname__} is not a dataclass")
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        if not params.frozen:
            raise TypeError(f"config section {name!r}: {cls.__qualname__} must be frozen")
        old = _SECTIONS.get(name)
        if (
            old is not None
            and old is not cls
            and (f"{old.__module__}.{old.__qualname__}" != f"{cls.__module__}.{cls.__qualname__}")
        ):
            raise ValueError(f"config section {name!r} is already registered to {old.__qualname__}")
        if old is not None:
            _NAMES.pop(old, None)
        _SECTIONS[name] = cls
        _NAMES[cls] = name
        return cls

    return register


def registered_sections() -> dict[str, type]:
    """A copy of the registry: section name → dataclass."""
    return dict(_SECTIONS)


def section_name(cls: type) -> str:
    """The name ``cls`` was registered under; ``KeyError`` if it was not registered."""
    try:
        return _NAMES[cls]
    except KeyError:
        raise KeyError(f"{cls.__qualname__} is not a registered config section") from None


def rules(*checks: PreValidationRule) -> dict[str, object]:
    """Field metadata attaching pre-validation rules to a config key.

    ``field(default=5, metadata=rules(in_range(0, 10)))``
    """
    return {"rules": checks}


# --------------------------------------------------------------------------- sections
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


@config_section("general")
@dataclass(frozen=True, slots=True)
class GeneralConfig:
    """``[general]``: settings that belong to no subsystem."""

    instance_name: str = field(default="symphony", metadata=rules(length(1, 64)))
    """Shown in logs and by ``symphony doctor``; tells several instances apart."""
    debug: bool = False
    """Extra checks and more verbose diagnostics."""


@config_section("logging")
@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """``[logging]``: the outputs :func:`symphony.commons.log.init_logging` sets up."""

    level: LogLevel = "INFO"
    """Threshold of the ``symphony`` logger, and default of each output."""
    console: bool = True
    """Human-readable lines on stderr."""
    console_level: LogLevel | None = None
    """Threshold of the console (empty: ``level``)."""
    color: Literal["auto", "always", "never"] = "auto"
    """Colour the console: ``auto`` when stderr is a terminal and ``NO_COLOR`` is unset."""
    file: bool = False
    """A rotating plain-text log file ``directory/file_name``."""
    file_level: LogLevel | None = None
    file_name: str = field(default="symphony.log", metadata=rules(length(1, 255)))
    json: bool = False
    """A rotating JSON-lines file ``directory/json_name`` (one object per record)."""
    json_level: LogLevel | None = None
    json_name: str = field(default="symphony.jsonl", metadata=rules(length(1, 255)))
    directory: Path | None = None
    """Where the log files go (empty: ``[paths] log_dir``)."""
    max_bytes: int = field(default=10 * 1024 * 1024, metadata=rules(in_range(0)))
    """Rotate a file when it would grow past this size (0: never rotate)."""
    backup_count: int = field(default=5, metadata=rules(in_range(0, 1000)))
    """Rotated files kept (``symphony.log.1`` … ``.N``)."""
    format: str = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
    """``logging.Formatter`` format of the console and the text file."""


def _dirs_field(which: str) -> Path:
    return cast(Path, getattr(project_dirs(), which))


@config_section("paths")
@dataclass(frozen=True, slots=True)
class PathsConfig:
    """``[paths]``: where Symphony keeps its files (default: the platform directories)."""

    data_dir: Path = field(default_factory=lambda: _dirs_field("data_dir"))
    cache_dir: Path = field(default_factory=lambda: _dirs_field("cache_dir"))
    log_dir: Path = field(default_factory=lambda: _dirs_field("log_dir"))
    runtime_dir: Path = field(default_factory=lambda: _dirs_field("runtime_dir"))


@config_section("limits")
@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """``[limits]``: bounds that protect every reader from hostile or broken input."""

    max_read_bytes: int = field(default=64 * 1024 * 1024, metadata=rules(in_range(0)))
    """Largest file a bounded read accepts."""
    max_frame_bytes: int = field(default=16 * 1024 * 1024, metadata=rules(in_range(1)))
    """Largest frame (message) a decoder accepts, refused before allocating."""
    max_nesting_depth: int = field(default=64, metadata=rules(in_range(1, 10_000)))
    """Deepest nesting a decoder accepts."""
    max_collection_items: int = field(default=1_000_000, metadata=rules(in_range(1)))
    """Most elements one decoded list or map may hold."""


_BUILTIN: tuple[tuple[str, type], ...] = (
    ("general", GeneralConfig),
    ("logging", LoggingConfig),
    ("paths", PathsConfig),
    ("limits", LimitsConfig),
)


# --------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class _Source:
    label: str  # "<file path>" or "environment variable SYMPHONY_X__Y"
    base: Path | None  # relative paths are resolved against this (None: the cwd)
    from_env: bool


_Value = tuple[object, _Source]
_Raw = dict[str, dict[str, _Value]]


class _BadValue(ConfigError):
    """Internal signal: a raw value does not convert to the field type (never escapes)."""


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_HINTS: dict[type, dict[str, object]] = {}


def _hints(cls: type) -> dict[str, object]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _describe(tp: object) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (types.UnionType, typing.Union):
        parts = [_describe(a) for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(parts) + " or empty"
    if origin is tuple:
        return f"list of {_describe(typing.get_args(tp)[0])}"
    if origin in (dict, Mapping):
        return f"table of {_describe(typing.get_args(tp)[1])}"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        Path: "path (string)",
    }.get(cast(type, tp), getattr(tp, "__name__", str(tp)))


def _convert(raw: object, tp: object, src: _Source) -> object:
    """``raw`` (a TOML value, or an environment string) as type ``tp``; else _BadValue."""
    origin = typing.get_origin(tp)
    env = src.from_env
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if raw == "" and len(args) < len(typing.get_args(tp)):
            return None
        for arg in args:
            try:
                return _convert(raw, arg, src)
            except _BadValue:
                continue
        raise _BadValue
    if origin is Literal:
        choices = typing.get_args(tp)
        for choice in choices:
            if env and isinstance(raw, str) and not isinstance(choice, str):
                try:
                    if _convert(raw, type(choice), src) == choice:
                        return choice
                except _BadValue:
                    continue
            elif type(raw) is type(choice) and (
                raw == choice
                or (isinstance(raw, str) and raw.casefold() == cast(str, choice).casefold())
            ):
                return choice
        raise _BadValue
    if origin is tuple:
        (item_tp, *rest) = typing.get_args(tp)
        if rest and rest != [Ellipsis]:
            raise TypeError(f"config fields support tuple[X, ...] only, not {tp}")
        if env and isinstance(raw, str):
            items: list[object] = [s.strip() for s in raw.split(",") if s.strip()]
        elif isinstance(raw, list):
            items = raw
        else:
            raise _BadValue
        return tuple(_convert(item, item_tp, src) for item in items)
    if origin in (dict, Mapping):
        key_tp, value_tp = typing.get_args(tp)
        if key_tp is not str:
            raise TypeError(f"config tables need string keys, not {tp}")
        if env and isinstance(raw, str):  # SYMPHONY_S__K="a=1,b=2"
            pairs = [p.partition("=") for p in raw.split(",") if p.strip()]
            if any(not sep or not k.strip() for k, sep, _ in pairs):
                raise _BadValue
            table: dict[str, object] = {k.strip(): v.strip() for k, _, v in pairs}
        elif isinstance(raw, dict):
            table = raw
        else:
            raise _BadValue
        return {str(k): _convert(v, value_tp, src) for k, v in table.items()}
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if env and isinstance(raw, str):
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        raise _BadValue
    if tp is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if env and isinstance(raw, str):
            try:
                return int(raw.strip(), 0)
            except ValueError:
                try:
                    return int(raw.strip(), 10)  # "010": int(.., 0) refuses leading zeros
                except ValueError:
                    raise _BadValue from None
        raise _BadValue
    if tp is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if env and isinstance(raw, str):
            try:
                return float(raw.strip())
            except ValueError:
                raise _BadValue from None
        raise _BadValue
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise _BadValue
    if tp is Path:
        if not isinstance(raw, str) or not raw or "\x00" in raw:
            raise _BadValue
        p = Path(raw).expanduser()
        if not p.is_absolute():
            p = (src.base / p) if src.base is not None else p.absolute()
        return p
    raise TypeError(f"unsupported config field type {tp!r}")


def _show(raw: object) -> str:
    text = repr(raw)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(raw).__name__})"


def _build(cls: type[T], name: str, values: Mapping[str, _Value], problems: list[str]) -> T | None:
    """Instantiate section ``cls`` from ``values``; append every problem to ``problems``."""
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cast(typing.Any, cls)) if f.init}
    kwargs: dict[str, object] = {}
    before = len(problems)
    for key, (raw, src) in values.items():
        f = fields.get(key)
        if f is None:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{src.label}: [{name}] unknown key {key!r}{hint}; "
                f"known keys: {', '.join(sorted(fields))}"
            )
            continue
        tp = hints[key]
        try:
            value = _convert(raw, tp, src)
        except _BadValue:
            problems.append(
                f"{src.label}: [{name}] {key}: expected {_describe(tp)}, found {_show(raw)}"
            )
            continue
        for rule in f.metadata.get("rules", ()):
            for failure in rule.check(value):
                problems.append(f"{src.label}: [{name}] {key}: {failure.message}")
        kwargs[key] = value
    if len(problems) > before:
        return None
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # a section's own __post_init__ checks
        labels = sorted({src.label for _, src in values.values()}) or ["<packaged defaults>"]
        problems.append(f"{', '.join(labels)}: [{name}] {exc}")
        return None


# --------------------------------------------------------------------------- TOML out
def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
        return _json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        # An inline table; keys quoted (a JSON string is a valid TOML quoted key).
        items = (f"{_json.dumps(str(k), ensure_ascii=False)} = {_toml_value(v)}"
                 for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def default_toml() -> str:
    """Every registered section at its packaged defaults, as a TOML document.

    A starting point for a ``default.toml`` (``symphony config init``): loading it back gives
    the defaults. Keys whose default is empty (``None``) or machine-specific (the platform
    directories of ``[paths]``) are written commented out.
    """
    out = ["# Symphony configuration: packaged defaults. Uncomment and edit what you need.", ""]
    for name, cls in _SECTIONS.items():
        out.append(f"[{name}]")
        obj = cls()
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None:
                out.append(f'# {f.name} = ""')
            elif f.default_factory is not dataclasses.MISSING:
                out.append(f"# {f.name} = {_toml_value(value)}")
            else:
                out.append(f"{f.name} = {_toml_value(value)}")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- Config
class Config:
    """The typed configuration: one frozen dataclass per section.

    Built-in sections are attributes (``cfg.logging.level``); any registered section is
    reached with :meth:`section` (``cfg.section(TransportConfig)``), which also parses — on
    first use — a section whose class was registered after :func:`load_config` ran.
    """

    __slots__ = ("_pending", "_sections")

    def __init__(
        self,
        sections: Mapping[str, object] | None = None,
        pending: Mapping[str, Mapping[str, _Value]] | None = None,
    ) -> None:
        self._sections: dict[str, object] = dict(sections or {})
        self._pending: dict[str, Mapping[str, _Value]] = dict(pending or {})
        for name, cls in _BUILTIN:
            if name not in self._sections:
                self._sections[name] = cls()

    @classmethod
    def defaults(cls) -> Config:
        """Every section at its packaged defaults (no files, no environment)."""
        return cls()

    @property
    def general(self) -> GeneralConfig:
        return cast(GeneralConfig, self._sections["general"])

    @property
    def logging(self) -> LoggingConfig:
        return cast(LoggingConfig, self._sections["logging"])

    @property
    def paths(self) -> PathsConfig:
        return cast(PathsConfig, self._sections["paths"])

    @property
    def limits(self) -> LimitsConfig:
        return cast(LimitsConfig, self._sections["limits"])

    def section(self, cls: type[T]) -> T:
        """The section of registered class ``cls`` (parsed now if it was deferred).

        Raises:
            KeyError: ``cls`` is not a registered section.
            ConfigError: the deferred values for it are bad.
        """
        name = section_name(cls)
        obj = self._sections.get(name)
        if obj is not None and type(obj) is cls:
            return obj
        problems: list[str] = []
        built = _build(cls, name, self._pending.get(name, {}), problems)
        if built is None:
            raise _config_error(problems)
        self._sections[name] = built
        return built

    def as_dict(self) -> dict[str, dict[str, object]]:
        """Parsed sections as plain data (paths as strings), for display."""
        out: dict[str, dict[str, object]] = {}
        for name, obj in self._sections.items():
            out[name] = {
                f.name: (str(v) if isinstance(v := getattr(obj, f.name), Path) else v)
                for f in dataclasses.fields(cast(typing.Any, obj))
            }
        return out

    def __repr__(self) -> str:
        return f"Config({', '.join(self._sections)})"


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """What :func:`load_config` found: the configuration and where it came from."""

    config: Config
    env: str
    """The environment name in use (``default``, ``test``, ``production``, …)."""
    config_dir: Path
    """The directory the TOML files were looked for in."""
    searched: tuple[Path, ...]
    """Every file looked for, in layer order (present or not)."""
    sources: tuple[Path, ...]
    """The files actually read, in layer order."""
    env_overrides: tuple[str, ...]
    """Names of the ``SYMPHONY_<SECTION>__<KEY>`` variables applied."""
    origins: Mapping[str, str]
    """``"section.key"`` → file or variable that set it (keys left at their defaults are absent)."""
    deferred_sections: tuple[str, ...]
    """Sections present in files or the environment whose class is not registered (yet):
    a typo, or a subsystem not imported. Parsed by :meth:`Config.section` on first use."""

    def report(self) -> str:
        """Where the configuration came from, as lines for ``symphony doctor``."""
        lines = [f"environment: {self.env}", f"config dir: {self.config_dir}"]
        for path in self.searched:
            lines.append(f"  {path}: {'read' if path in self.sources else 'not found'}")
        lines.append(f"overrides: {', '.join(self.env_overrides) or 'none'}")
        if self.deferred_sections:
            lines.append(
                "sections with no registered class (a typo, or not imported yet): "
                + ", ".join(f"[{name}]" for name in self.deferred_sections)
            )
        return "\n".join(lines)


def _config_error(problems: list[str]) -> ConfigError:
    n = len(problems)
    head = f"{n} configuration problem{'s' if n != 1 else ''}"
    return ConfigError(head + ":\n  " + "\n  ".join(problems), details={"problems": list(problems)})


def _read_file(path: Path, raw: _Raw, problems: list[str]) -> bool:
    """Merge one TOML file into ``raw``; ``False`` if it does not exist."""
    try:
        data = read_limited(path, MAX_CONFIG_FILE_BYTES)
    except StorageNotFound:
        return False
    except StorageError as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return True
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text: {exc}")
        return True
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: invalid TOML: {exc}")
        return True
    src = _Source(str(path), path.parent.absolute(), False)
    for section, table in doc.items():
        if not isinstance(table, dict):
            problems.append(
                f"{path}: top-level key {section!r} must be a [section] table, found {_show(table)}"
            )
            continue
        target = raw.setdefault(section, {})
        for key, value in table.items():
            target[key] = (value, src)
    return True


def load_config(
    env: str | None = None,
    config_dir: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Load the layered configuration (see the module docstring for the layers).

    Args:
        env: the environment name; default ``$SYMPHONY_ENV``, else ``"default"``.
        config_dir: where to look for the TOML files; default ``$SYMPHONY_CONFIG_DIR``,
            else the platform user config directory.
        environ: the environment variables to read (default ``os.environ``).

    Returns:
        The typed :class:`Config` plus the files read, the overrides applied and the origin
        of every value that is not a default.

    Raises:
        ConfigError: listing *every* problem found (file or variable, key, expected type,
            value found); also for an invalid environment name.
    """
    environ = os.environ if environ is None else environ
    if env is None:
        env = environ.get(ENV_NAME_ENV_VAR) or "default"
        env_label = f"environment variable {ENV_NAME_ENV_VAR}"
    else:
        env_label = "the env argument"
    if not _ENV_NAME_RE.fullmatch(env):
        raise ConfigError(
            f"{env_label}: expected an environment name like 'test' or 'production' "
            f"([A-Za-z0-9_.-], not starting with '.' or '-'), found {env!r}",
            details={"env": env},
        )
    if config_dir is None:
        from_env = environ.get(CONFIG_DIR_ENV_VAR)
        config_dir = Path(from_env).expanduser() if from_env else project_dirs().config_dir
    config_dir = config_dir.absolute()

    problems: list[str] = []
    raw: _Raw = {}
    searched = [config_dir / "default.toml"]
    if env != "default":
        searched.append(config_dir / f"{env}.toml")
    sources = tuple(p for p in searched if _read_file(p, raw, problems))

    applied: list[str] = []
    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX) or "__" not in var:
            continue
        section, _, key = var[len(ENV_PREFIX) :].partition("__")
        section, key = section.lower(), key.lower()
        if not _NAME_RE.fullmatch(section) or not key:
            problems.append(
                f"environment variable {var}: expected {ENV_PREFIX}<SECTION>__<KEY>, "
                f"found section {section!r} and key {key!r}"
            )
            continue
        raw.setdefault(section, {})[key] = (
            environ[var],
            _Source(f"environment variable {var}", None, True),
        )
        applied.append(var)

    sections: dict[str, object] = {}
    pending: dict[str, Mapping[str, _Value]] = {}
    for name, values in raw.items():
        if name not in _SECTIONS:
            pending[name] = values
    for name, cls in _SECTIONS.items():
        built = _build(cls, name, raw.get(name, {}), problems)
        if built is not None:
            sections[name] = built
    if problems:
        raise _config_error(problems)

    logging_cfg = cast(LoggingConfig, sections["logging"])
    if logging_cfg.directory is None:
        paths_cfg = cast(PathsConfig, sections["paths"])
        sections["logging"] = dataclasses.replace(logging_cfg, directory=paths_cfg.log_dir)

    origins = {
        f"{name}.{key}": src.label
        for name, values in raw.items()
        for key, (_, src) in values.items()
    }
    return LoadedConfig(
        config=Config(sections, pending),
        env=env,
        config_dir=config_dir,
        searched=tuple(searched),
        sources=sources,
        env_overrides=tuple(applied),
        origins=origins,
        deferred_sections=tuple(sorted(pending)),
    )
