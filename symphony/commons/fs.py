"""Safe filesystem helpers: platform directories, atomic writes, bounded reads, path checks.

Every function here translates ``OSError`` at its boundary into
:class:`~symphony.commons.errors.StorageError` (or its subclasses
:class:`~symphony.commons.errors.StorageNotFound` and
:class:`~symphony.commons.errors.FileTooLarge`), with the original as ``__cause__`` and the
path in the message. Path checks raise :class:`~symphony.commons.errors.PathEscapeError`.

Example::

    dirs = project_dirs()
    target = safe_join(dirs.data_dir, "workflows/demo.json")   # refuses "../x", "/etc/x"
    atomic_write(target, b"{}")                                # all or nothing, durable
    data = read_limited(target, 1 << 20)                       # FileTooLarge past 1 MiB
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import FileTooLarge, PathEscapeError, StorageError, StorageNotFound

__all__ = [
    "APP_NAME",
    "ProjectDirs",
    "atomic_write",
    "ensure_dir",
    "file_exists",
    "project_dirs",
    "read_limited",
    "safe_join",
    "validate_path",
]

APP_NAME = "symphony"
"""The application name used for platform directories."""

StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class ProjectDirs:
    """Per-user platform directories of Symphony (the seed's ``directories::ProjectDirs``).

    Nothing is created: call :func:`ensure_dir` on the ones you write to.
    """

    data_dir: Path
    """Persistent data (artifact store, journals)."""
    config_dir: Path
    """Where ``default.toml`` / ``<env>.toml`` are looked for (unless ``SYMPHONY_CONFIG_DIR``)."""
    cache_dir: Path
    """Data that may be deleted at any time."""
    log_dir: Path
    """Log files (rotating text and JSON lines)."""
    runtime_dir: Path
    """Sockets, pid files and other per-session runtime files."""


def project_dirs(app_name: str = APP_NAME) -> ProjectDirs:
    """The platform directories of ``app_name`` (via :mod:`platformdirs`), as absolute paths.

    On Linux: ``~/.local/share/symphony``, ``~/.config/symphony``, ``~/.cache/symphony``,
    ``~/.local/state/symphony/log`` and ``$XDG_RUNTIME_DIR/symphony`` (each honouring the
    ``XDG_*`` variables).
    """
    import platformdirs  # deferred: keeps ``import symphony.commons.fs`` cheap

    dirs = platformdirs.PlatformDirs(appname=app_name, appauthor=False)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp/runtime-UID:
        # that fallback is what we want, and the warning would break callers that treat
        # warnings as errors.
        warnings.simplefilter("ignore")
        runtime_dir = dirs.user_runtime_dir
    return ProjectDirs(
        data_dir=Path(dirs.user_data_dir).absolute(),
        config_dir=Path(dirs.user_config_dir).absolute(),
        cache_dir=Path(dirs.user_cache_dir).absolute(),
        log_dir=Path(dirs.user_log_dir).absolute(),
        runtime_dir=Path(runtime_dir).absolute(),
    )


@contextlib.contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    """Translate ``OSError`` into :class:`StorageError` (missing paths: StorageNotFound)."""
    try:
        yield
    except StorageError:
        raise
    except FileNotFoundError as exc:
        raise StorageNotFound(f"{what}: {exc}", details={"errno": exc.errno}) from exc
    except OSError as exc:
        raise StorageError(f"{what}: {exc}", details={"errno": exc.errno}) from exc


def ensure_dir(path: StrPath, mode: int = 0o777) -> Path:
    """Create directory ``path`` and its parents if missing; return it as a :class:`Path`.

    Args:
        path: the directory.
        mode: permission bits for created directories (the umask applies).

    Raises:
        StorageError: a non-directory is in the way, or creation failed.
    """
    p = Path(path)
    with _storage_errors(f"cannot create directory {str(p)!r}"):
        p.mkdir(mode=mode, parents=True, exist_ok=True)
    return p


def file_exists(path: StrPath) -> bool:
    """``True`` if ``path`` is an existing regular file (following symlinks).

    Unlike a bare ``os.stat`` this never raises: a path that cannot be examined (permission
    denied on a parent, a name too long, a NUL byte) counts as "not there".
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: StrPath,
    data: bytes | bytearray | memoryview | str,
    *,
    encoding: str = "utf-8",
    mode: int | None = None,
) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    Readers see either the old content or the new one, never a mix, and after a return the
    new content survives a power loss: the data goes to a temporary file in the same
    directory, which is flushed and ``fsync``-ed, renamed over ``path`` with ``os.replace``,
    and then the directory itself is ``fsync``-ed so that the rename is on disk too.

    If anything fails (including an exception or ``KeyboardInterrupt`` mid-write) the
    temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to write; its directory must exist.
        data: bytes-like, or text encoded with ``encoding``.
        encoding: used when ``data`` is a ``str``.
        mode: permission bits of the new file. Default: those of the file being replaced,
            or ``0o644`` for a new file.

    Raises:
        StorageError: the write failed (``StorageNotFound`` if the directory is missing).
        TypeError: ``data`` is neither bytes nor str.
    """
    p = Path(path)
    if isinstance(data, str):
        payload: bytes | bytearray | memoryview = data.encode(encoding)
    elif isinstance(data, bytes | bytearray | memoryview):
        payload = data
    else:
        raise TypeError(f"atomic_write: data must be bytes or str, not {type(data).__name__}")
    directory = p.parent
    with _storage_errors(f"atomic write of {str(p)!r} failed"):
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(p).st_mode)
            except FileNotFoundError:
                mode = 0o644
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{p.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fchmod(fh.fileno(), mode)
                os.fsync(fh.fileno())
            os.replace(tmp_name, p)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(directory)


def read_limited(path: StrPath, max_bytes: int) -> bytes:
    """Read a whole file, refusing one larger than ``max_bytes`` without reading it all.

    The size is checked with ``fstat`` before reading, and the read itself stops at
    ``max_bytes + 1`` bytes, so files that grow meanwhile or report no size (``/proc``,
    pipes) are bounded too.

    Raises:
        FileTooLarge: the file holds more than ``max_bytes`` bytes.
        StorageNotFound: ``path`` does not exist.
        StorageError: any other read failure (a directory, permission denied, …).
        ValueError: ``max_bytes`` is negative.
    """
    if max_bytes < 0:
        raise ValueError(f"read_limited: max_bytes must be >= 0, got {max_bytes}")
    p = Path(path)
    with _storage_errors(f"cannot read {str(p)!r}"), open(p, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise FileTooLarge(
                f"{str(p)!r} is {size} bytes, over the limit of {max_bytes} bytes",
                details={"path": str(p), "size": size, "limit": max_bytes},
            )
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(
            f"{str(p)!r} holds more than the limit of {max_bytes} bytes",
            details={"path": str(p), "limit": max_bytes},
        )
    return data


def _lexical_check(relative: StrPath, root: Path) -> Path:
    rel = Path(relative)
    text = os.fspath(relative)
    if "\x00" in text:
        raise PathEscapeError(f"path {text!r} contains a NUL byte", details={"path": text})
    if rel.is_absolute() or rel.drive or rel.root:
        raise PathEscapeError(
            f"path {text!r} is absolute; expected a path relative to {str(root)!r}",
            details={"path": text, "root": str(root)},
        )
    if ".." in rel.parts:
        raise PathEscapeError(
            f"path {text!r} contains '..'; it may not leave {str(root)!r}",
            details={"path": text, "root": str(root)},
        )
    return rel


def _resolve_within(candidate: Path, root: Path, shown: str) -> Path:
    with _storage_errors(f"cannot resolve {shown!r}"):
        try:
            real_root = root.resolve()
            real = candidate.resolve()
        except RuntimeError as exc:  # Python 3.11 reports a symlink loop so
            raise PathEscapeError(
                f"path {shown!r} cannot be resolved: {exc}", details={"path": shown}
            ) from exc
    if not real.is_relative_to(real_root):
        raise PathEscapeError(
            f"path {shown!r} resolves to {str(real)!r}, outside {str(real_root)!r}"
            " (through a symlink or '..')",
            details={"path": shown, "resolved": str(real), "root": str(real_root)},
        )
    return real


def safe_join(root: StrPath, relative: StrPath) -> Path:
    """Join ``relative`` onto ``root``, refusing anything that could end up outside ``root``.

    Refused with :class:`PathEscapeError`: absolute paths, any ``..`` component, NUL bytes,
    and paths that leave ``root`` through a symlink (checked on the fully resolved path; the
    target need not exist yet).

    Returns:
        The resolved absolute path (symlinks inside ``root`` followed).

    Note:
        A check cannot stop a symlink created *after* it returns (a race with another
        process that can write inside ``root``); keep ``root`` private to Symphony.
    """
    root_p = Path(root)
    rel = _lexical_check(relative, root_p)
    return _resolve_within(root_p / rel, root_p, os.fspath(relative))


def validate_path(path: StrPath, root: StrPath) -> Path:
    """Check that ``path`` (absolute, or relative to ``root``) stays inside ``root``.

    Unlike :func:`safe_join` an absolute ``path`` is accepted when it lies inside ``root``,
    and ``..`` components are accepted when the resolved result stays inside. Symlinks are
    followed before the check.

    Returns:
        The resolved absolute path.

    Raises:
        PathEscapeError: the path resolves outside ``root`` or contains a NUL byte.
    """
    root_p = Path(root)
    text = os.fspath(path)
    if "\x00" in text:
        raise PathEscapeError(f"path {text!r} contains a NUL byte", details={"path": text})
    p = Path(path)
    candidate = p if p.is_absolute() else root_p / p
    return _resolve_within(candidate, root_p, text)
