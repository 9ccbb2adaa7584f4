"""Seed M1.0 "sy-commons": what every other part of Symphony builds on.

The guide (each module's docstring has the details and examples):

=========================================  ==================================================
:mod:`symphony.commons.errors`             the one exception tree: :class:`SymphonyError` and
                                           its categories; :func:`error_context` adds context
                                           on the way up; :func:`map_exceptions` translates
                                           foreign errors at a boundary
:mod:`symphony.commons.log`                :func:`init_logging` (console, rotating file, JSON
                                           lines) and :func:`get_logger`
:mod:`symphony.commons.config`             :func:`load_config`: packaged defaults, then
                                           ``default.toml``, ``<env>.toml``, then
                                           ``SYMPHONY_<SECTION>__<KEY>``; typed sections,
                                           extensible with :func:`config_section`
:mod:`symphony.commons.fs`                 :func:`project_dirs`, :func:`atomic_write`,
                                           :func:`read_limited`, :func:`ensure_dir`,
                                           :func:`safe_join`, :func:`validate_path`
:mod:`symphony.commons.prevalidation`      :class:`PreValidationRule`, the common rules,
                                           :func:`all_of` / :func:`any_of`, :func:`validate`,
                                           :class:`Validator` (compiled, for hot paths)
:mod:`symphony.commons.debug`              :func:`duck`: ``[DUCK DEBUGGING]`` output
=========================================  ==================================================

Every name in the table is re-exported here, e.g. ``from symphony.commons import duck``.
The re-exports are lazy (PEP 562): ``import symphony.commons.errors`` — which every kernel
does — does not import logging, TOML or platformdirs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config as Config
    from .config import LoadedConfig as LoadedConfig
    from .config import LoggingConfig as LoggingConfig
    from .config import config_section as config_section
    from .config import load_config as load_config
    from .debug import duck as duck
    from .errors import SymphonyError as SymphonyError
    from .errors import error_context as error_context
    from .errors import map_exceptions as map_exceptions
    from .fs import ProjectDirs as ProjectDirs
    from .fs import atomic_write as atomic_write
    from .fs import ensure_dir as ensure_dir
    from .fs import project_dirs as project_dirs
    from .fs import read_limited as read_limited
    from .fs import safe_join as safe_join
    from .fs import validate_path as validate_path
    from .log import get_logger as get_logger
    from .log import init_logging as init_logging
    from .log import shutdown_logging as shutdown_logging
    from .prevalidation import PreValidationRule as PreValidationRule
    from .prevalidation import Validator as Validator
    from .prevalidation import all_of as all_of
    from .prevalidation import any_of as any_of
    from .prevalidation import validate as validate

_EXPORTS: dict[str, str] = {
    "Config": "config",
    "LoadedConfig": "config",
    "LoggingConfig": "config",
    "config_section": "config",
    "load_config": "config",
    "duck": "debug",
    "SymphonyError": "errors",
    "error_context": "errors",
    "map_exceptions": "errors",
    "ProjectDirs": "fs",
    "atomic_write": "fs",
    "ensure_dir": "fs",
    "project_dirs": "fs",
    "read_limited": "fs",
    "safe_join": "fs",
    "validate_path": "fs",
    "get_logger": "log",
    "init_logging": "log",
    "shutdown_logging": "log",
    "PreValidationRule": "prevalidation",
    "Validator": "prevalidation",
    "all_of": "prevalidation",
    "any_of": "prevalidation",
    "validate": "prevalidation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symphony.commons' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
