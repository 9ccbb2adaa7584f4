"""symphony.commons.fs: platform dirs, atomic writes, bounded reads, path checks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons import fs
from symphony.commons.errors import (
    FileTooLarge,
    PathEscapeError,
    StorageError,
    StorageNotFound,
    ValidationError,
)


# --------------------------------------------------------------------------- project_dirs
def test_project_dirs_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var, sub in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_RUNTIME_DIR", "run"),
    ]:
        monkeypatch.setenv(var, str(tmp_path / sub))
    d = fs.project_dirs()
    assert d.data_dir == tmp_path / "data" / "symphony"
    assert d.config_dir == tmp_path / "config" / "symphony"
    assert d.cache_dir == tmp_path / "cache" / "symphony"
    assert d.log_dir == tmp_path / "state" / "symphony" / "log"
    assert d.runtime_dir == tmp_path / "run" / "symphony"
    assert fs.project_dirs("other").data_dir == tmp_path / "data" / "other"
    assert not (tmp_path / "data").exists()  # nothing is created


def test_project_dirs_without_runtime_dir_does_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest runs with filterwarnings=error: platformdirs' RuntimeDirWarning would fail this.
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    d = fs.project_dirs()
    assert d.runtime_dir.is_absolute()
    assert d.runtime_dir.name == "symphony"


# --------------------------------------------------------------------------- ensure_dir
def test_ensure_dir_creates_parents_and_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c"
    assert fs.ensure_dir(target) == target
    assert target.is_dir()
    assert fs.ensure_dir(str(target)) == target


def test_ensure_dir_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match="cannot create directory") as info:
        fs.ensure_dir(tmp_path / "f")
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(StorageError):
        fs.ensure_dir(tmp_path / "f" / "sub")


# --------------------------------------------------------------------------- file_exists
def test_file_exists(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert fs.file_exists(tmp_path / "f")
    assert not fs.file_exists(tmp_path / "missing")
    assert not fs.file_exists(tmp_path)  # a directory is not a file
    assert not fs.file_exists("bad\x00name")
    os.symlink(tmp_path / "f", tmp_path / "link")
    assert fs.file_exists(tmp_path / "link")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    assert not fs.file_exists(tmp_path / "dangling")


# --------------------------------------------------------------------------- atomic_write
def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_bytes_and_text(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    fs.atomic_write(target, b"\x00\x01hello")
    assert target.read_bytes() == b"\x00\x01hello"
    fs.atomic_write(target, "héllo")
    assert target.read_bytes() == "héllo".encode()
    fs.atomic_write(target, "héllo", encoding="latin-1")
    assert target.read_bytes() == "héllo".encode("latin-1")
    fs.atomic_write(target, bytearray(b"ba"))
    assert target.read_bytes() == b"ba"
    fs.atomic_write(target, memoryview(b"mv"))
    assert target.read_bytes() == b"mv"
    assert _leftovers(tmp_path) == []


def test_atomic_write_modes(tmp_path: Path) -> None:
    new = tmp_path / "new"
    fs.atomic_write(new, b"x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    new.chmod(0o600)
    fs.atomic_write(new, b"y")  # keeps the mode of the file it replaces
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    fs.atomic_write(new, b"z", mode=0o640)
    assert stat.S_IMODE(new.stat().st_mode) == 0o640


def test_atomic_write_rejects_other_types(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="int"):
        fs.atomic_write(tmp_path / "x", 5)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


class _Boom(Exception):
    pass


def test_atomic_write_survives_an_exception_mid_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    fs.atomic_write(target, b"old content")
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        raise _Boom("power cut")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(_Boom):
        fs.atomic_write(target, b"new content that must not appear")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert calls
    assert target.read_bytes() == b"old content"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_atomic_write_survives_keyboard_interrupt_in_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t"
    fs.atomic_write(target, b"old")

    def interrupted(src: str, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fs.atomic_write(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_atomic_write_oserror_becomes_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageError, match="No space left") as info:
        fs.atomic_write(tmp_path / "t", b"data")
    assert isinstance(info.value, OSError)
    assert info.value.details["errno"] == 28
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(StorageNotFound, match="atomic write"):
        fs.atomic_write(tmp_path / "no" / "such" / "file", b"x")


def test_atomic_write_fsyncs_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    fs.atomic_write(tmp_path / "f", b"x")
    assert len(synced) == 2
    assert synced[0].startswith(str(tmp_path / ".f."))  # the temp file, before the rename
    assert synced[1] == str(tmp_path)  # then the directory


@given(st.binary(max_size=4096))
def test_atomic_write_roundtrip(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        target = Path(d) / "f"
        fs.atomic_write(target, data)
        assert fs.read_limited(target, len(data)) == data
        assert _leftovers(Path(d)) == []


# --------------------------------------------------------------------------- read_limited
def test_read_limited_within_and_at_limit(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    assert fs.read_limited(f, 5) == b"12345"
    assert fs.read_limited(str(f), 100) == b"12345"
    (tmp_path / "empty").write_bytes(b"")
    assert fs.read_limited(tmp_path / "empty", 0) == b""


def test_read_limited_refuses_past_limit_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "big"
    with open(f, "wb") as fh:  # sparse: 1 GiB that would hurt to read
        fh.truncate(1 << 30)
    with pytest.raises(FileTooLarge, match=r"1073741824 bytes, over the limit of 1000") as info:
        fs.read_limited(f, 1000)
    assert info.value.details == {"path": str(f), "size": 1 << 30, "limit": 1000}
    assert isinstance(info.value, StorageError)


def test_read_limited_bounds_files_without_a_size() -> None:
    # /proc files report size 0 but have content: the read itself must stop at the limit.
    path = Path("/proc/self/status")
    assert os.stat(path).st_size == 0
    with pytest.raises(FileTooLarge, match="more than the limit of 10 bytes"):
        fs.read_limited(path, 10)
    assert fs.read_limited(path, 1 << 20).startswith(b"Name:")


def test_read_limited_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageNotFound, match="missing") as info:
        fs.read_limited(tmp_path / "missing", 10)
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, OSError)
    with pytest.raises(StorageError, match="cannot read"):
        fs.read_limited(tmp_path, 10)  # a directory
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        fs.read_limited(tmp_path / "missing", -1)


# --------------------------------------------------------------------------- safe_join
@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "sub").mkdir(parents=True)
    (r / "sub" / "file").write_text("x")
    (tmp_path / "outside").mkdir()
    return r


def test_safe_join_inside(root: Path) -> None:
    assert fs.safe_join(root, "sub/file") == (root / "sub" / "file").resolve()
    assert fs.safe_join(str(root), Path("sub")) == (root / "sub").resolve()
    assert fs.safe_join(root, "new/not/yet") == (root / "new" / "not" / "yet").resolve()
    assert fs.safe_join(root, "") == root.resolve()
    assert fs.safe_join(root, "./sub/./file") == (root / "sub" / "file").resolve()


@pytest.mark.parametrize("bad", ["..", "../outside", "sub/../../outside", "sub/..", "a/../b"])
def test_safe_join_refuses_dotdot(root: Path, bad: str) -> None:
    with pytest.raises(PathEscapeError, match=r"contains '\.\.'") as info:
        fs.safe_join(root, bad)
    assert info.value.details["path"] == bad
    assert isinstance(info.value, ValidationError)


@pytest.mark.parametrize("bad", ["/etc/passwd", "/", "//x"])
def test_safe_join_refuses_absolute(root: Path, bad: str) -> None:
    with pytest.raises(PathEscapeError, match="is absolute"):
        fs.safe_join(root, bad)


def test_safe_join_refuses_nul(root: Path) -> None:
    with pytest.raises(PathEscapeError, match="NUL"):
        fs.safe_join(root, "a\x00b")


def test_safe_join_refuses_symlink_out(root: Path) -> None:
    outside = root.parent / "outside"
    os.symlink(outside, root / "escape")
    os.symlink("../../outside/x", root / "sub" / "relative_escape")
    os.symlink("/etc/passwd", root / "abs_escape")
    for rel in ["escape", "escape/new_file", "sub/relative_escape", "abs_escape"]:
        with pytest.raises(PathEscapeError, match="outside"):
            fs.safe_join(root, rel)


def test_safe_join_follows_symlink_inside(root: Path) -> None:
    os.symlink(root / "sub", root / "alias")
    assert fs.safe_join(root, "alias/file") == (root / "sub" / "file").resolve()


def test_safe_join_with_symlinked_root(root: Path) -> None:
    link = root.parent / "rootlink"
    os.symlink(root, link)
    assert fs.safe_join(link, "sub/file") == (root / "sub" / "file").resolve()


def test_safe_join_refuses_symlink_loop(root: Path) -> None:
    os.symlink(root / "loop", root / "loop")
    with pytest.raises(PathEscapeError, match="cannot be resolved"):
        fs.safe_join(root, "loop/x")


_part = st.sampled_from(["a", "b", "..", ".", "sub", "file", "x y", "é"])


@given(st.lists(_part, max_size=6), st.booleans())
def test_safe_join_never_escapes(parts: list[str], absolute: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "root"
        root.mkdir()
        rel = ("/" if absolute else "") + "/".join(parts)
        try:
            result = fs.safe_join(root, rel)
        except PathEscapeError:
            assert absolute or ".." in Path(rel).parts
        else:
            assert result.is_relative_to(root.resolve())
            assert not absolute
            assert ".." not in parts


# --------------------------------------------------------------------------- validate_path
def test_validate_path(root: Path) -> None:
    assert fs.validate_path(root / "sub" / "file", root) == (root / "sub" / "file").resolve()
    assert fs.validate_path("sub/../sub/file", root) == (root / "sub" / "file").resolve()
    assert fs.validate_path(root, root) == root.resolve()
    with pytest.raises(PathEscapeError, match="outside"):
        fs.validate_path("/etc/passwd", root)
    with pytest.raises(PathEscapeError, match="outside"):
        fs.validate_path("../outside", root)
    with pytest.raises(PathEscapeError, match="outside"):
        fs.validate_path(root / ".." / "outside", root)
    os.symlink(root.parent / "outside", root / "escape")
    with pytest.raises(PathEscapeError, match="outside"):
        fs.validate_path(root / "escape" / "f", root)
    with pytest.raises(PathEscapeError, match="NUL"):
        fs.validate_path("x\x00", root)
