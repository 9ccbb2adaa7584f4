"""Logging: console, rotating file and JSON-lines outputs from one :class:`LoggingConfig`.

(The module is ``log`` rather than ``logging`` so that it never shadows the standard library.)

Library code only *gets* loggers and never configures logging on import::

    from symphony.commons.log import get_logger
    log = get_logger(__name__)            # "symphony.pit.pool"
    log.info("model %s loaded", name, extra={"model": name, "ms": 12.5})

The application configures the outputs once, at start-up (the CLI does this)::

    init_logging(load_config().config.logging)

Three outputs, each switched on in ``[logging]`` and each with its own level:

- **console** — human-readable lines on stderr, coloured by level when stderr is a terminal
  (``color = "auto"``; ``NO_COLOR`` or ``TERM=dumb`` turn colour off);
- **file** — the same lines in ``directory/file_name``, rotated at ``max_bytes`` keeping
  ``backup_count`` old files (``logging.handlers.RotatingFileHandler``);
- **json** — one JSON object per line in ``directory/json_name`` (rotated likewise) with
  ``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``module``, ``func``, ``line``,
  ``process``, ``thread``, ``exc`` (formatted traceback, if any) and every ``extra=`` field.

:func:`init_logging` is idempotent: calling it again replaces the outputs it installed before
(closing their files) and leaves any other handler alone. :func:`shutdown_logging` removes them.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import logging
import logging.handlers
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from .config import LoggingConfig
from .errors import StorageError
from .fs import ensure_dir, project_dirs

__all__ = [
    "ConsoleFormatter",
    "JsonLinesFormatter",
    "LoggingConfig",
    "get_logger",
    "init_logging",
    "shutdown_logging",
]

ROOT_LOGGER: Final = "symphony"

_COLOURS: Final[dict[int, str]] = {
    logging.DEBUG: "\x1b[36m",  # cyan
    logging.INFO: "\x1b[32m",  # green
    logging.WARNING: "\x1b[33m",  # yellow
    logging.ERROR: "\x1b[31m",  # red
    logging.CRITICAL: "\x1b[1;31m",  # bold red
}
_RESET: Final = "\x1b[0m"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def get_logger(name: str) -> logging.Logger:
    """The logger for ``name``, placed under the ``symphony`` hierarchy.

    ``get_logger(__name__)`` inside Symphony gives ``symphony.<module>``; any other name
    (an extension's, say) becomes ``symphony.<name>`` so that it reaches the outputs
    :func:`init_logging` installs. Nothing is configured.
    """
    if name == ROOT_LOGGER or name.startswith(ROOT_LOGGER + "."):
        return logging.getLogger(name)
    return logging.getLogger(f"{ROOT_LOGGER}.{name}")


class ConsoleFormatter(logging.Formatter):
    """A ``logging.Formatter`` that can colour each line by its level (ANSI escapes)."""

    def __init__(self, fmt: str, *, colour: bool) -> None:
        super().__init__(fmt)
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if self.colour:
            start = _COLOURS.get(record.levelno)
            if start:
                # Colour the whole line: colouring only the level name would break the
                # column alignment of "%(levelname)-8s".
                return f"{start}{line}{_RESET}"
        return line


class JsonLinesFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "module": record.module,
            "func": record.funcName,
            "line": record.lineno,
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in out:
                out[key] = value
        return _json.dumps(out, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


@dataclass
class _Installed:
    handlers: list[logging.Handler]
    level: int
    propagate: bool


_lock = threading.Lock()
_installed: dict[str, _Installed] = {}


def _wants_colour(setting: str, stream: TextIO) -> bool:
    if setting == "always":
        return True
    if setting == "never":
        return False
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # closed or detached stream
        return False


def _rotating(path: Path, config: LoggingConfig) -> logging.handlers.RotatingFileHandler:
    try:
        return logging.handlers.RotatingFileHandler(
            path, maxBytes=config.max_bytes, backupCount=config.backup_count, encoding="utf-8"
        )
    except OSError as exc:
        raise StorageError(f"cannot open log file {str(path)!r}: {exc}") from exc


def init_logging(
    config: LoggingConfig | None = None,
    *,
    logger: str = ROOT_LOGGER,
    stream: TextIO | None = None,
) -> logging.Logger:
    """Install the outputs ``config`` asks for on ``logger``; replace earlier ones.

    Args:
        config: the ``[logging]`` section (default: its packaged defaults — console only).
        logger: the logger to configure: ``"symphony"`` (default) or ``""`` for the root
            logger, to capture third-party libraries as well.
        stream: the console stream (default: ``sys.stderr`` at the time of the call).

    Returns:
        The configured logger. Its ``propagate`` is switched off while Symphony's outputs are
        installed (so records are not printed twice by a root handler);
        :func:`shutdown_logging` restores it.

    Raises:
        StorageError: the log directory or a log file cannot be created.
    """
    cfg = config if config is not None else LoggingConfig()
    target = logging.getLogger(logger) if logger else logging.getLogger()
    handlers: list[logging.Handler] = []
    try:
        if cfg.console:
            out = stream if stream is not None else sys.stderr
            console = logging.StreamHandler(out)
            console.setFormatter(ConsoleFormatter(cfg.format, colour=_wants_colour(cfg.color, out)))
            console.setLevel(cfg.console_level or cfg.level)
            handlers.append(console)
        if cfg.file or cfg.json:
            directory = cfg.directory if cfg.directory is not None else project_dirs().log_dir
            ensure_dir(directory)
            if cfg.file:
                text = _rotating(directory / cfg.file_name, cfg)
                text.setFormatter(logging.Formatter(cfg.format))
                text.setLevel(cfg.file_level or cfg.level)
                handlers.append(text)
            if cfg.json:
                lines = _rotating(directory / cfg.json_name, cfg)
                lines.setFormatter(JsonLinesFormatter())
                lines.setLevel(cfg.json_level or cfg.level)
                handlers.append(lines)
    except BaseException:
        for h in handlers:
            h.close()
        raise

    with _lock:
        previous = _installed.pop(logger, None)
        if previous is not None:
            _remove(target, previous)
            saved_level, saved_propagate = previous.level, previous.propagate
        else:
            saved_level, saved_propagate = target.level, target.propagate
        for h in handlers:
            target.addHandler(h)
        levels = [h.level for h in handlers] or [logging.getLevelName(cfg.level)]
        target.setLevel(min(levels))
        target.propagate = False if handlers else saved_propagate
        _installed[logger] = _Installed(handlers, saved_level, saved_propagate)
    return target


def _remove(target: logging.Logger, installed: _Installed) -> None:
    for h in installed.handlers:
        target.removeHandler(h)
        h.close()


def shutdown_logging(logger: str = ROOT_LOGGER) -> None:
    """Remove (and close) the outputs :func:`init_logging` installed on ``logger``.

    The logger's level and ``propagate`` go back to what they were before the first
    ``init_logging``. Does nothing if nothing was installed.
    """
    target = logging.getLogger(logger) if logger else logging.getLogger()
    with _lock:
        installed = _installed.pop(logger, None)
        if installed is None:
            return
        _remove(target, installed)
        target.setLevel(installed.level)
        target.propagate = installed.propagate
