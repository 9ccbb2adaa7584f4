"""symphony.commons.log: console / rotating file / JSON-lines outputs, idempotent init."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from symphony.commons.config import LoggingConfig
from symphony.commons.errors import StorageError
from symphony.commons.log import (
    ConsoleFormatter,
    JsonLinesFormatter,
    get_logger,
    init_logging,
    shutdown_logging,
)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    shutdown_logging()
    shutdown_logging("")


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def ours(logger: logging.Logger) -> list[logging.Handler]:
    return list(logger.handlers)


# --------------------------------------------------------------------------- get_logger
def test_get_logger_places_names_under_symphony() -> None:
    assert get_logger("symphony").name == "symphony"
    assert get_logger("symphony.pit.pool").name == "symphony.pit.pool"
    assert get_logger("myext").name == "symphony.myext"
    assert get_logger("symphonyx").name == "symphony.symphonyx"
    assert get_logger("x") is logging.getLogger("symphony.x")


def test_importing_commons_configures_nothing() -> None:
    code = (
        "import logging, symphony.commons as c\n"
        "import symphony.commons.log, symphony.commons.config, symphony.commons.fs\n"
        "import symphony.commons.prevalidation, symphony.commons.debug\n"
        "c.get_logger('x').warning('hi')\n"
        "s = logging.getLogger('symphony')\n"
        "r = logging.getLogger()\n"
        "print(len(s.handlers), s.level, s.propagate, len(r.handlers), r.level)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["0", "0", "True", "0", str(logging.WARNING)]
    # with nothing configured, Python's last-resort handler prints warnings bare
    assert out.stderr == "hi\n"


# --------------------------------------------------------------------------- console
def test_console_output_is_human_readable() -> None:
    stream = io.StringIO()
    init_logging(LoggingConfig(format="%(levelname)s %(name)s: %(message)s"), stream=stream)
    get_logger("t").info("hello %s", "world")
    get_logger("t").debug("hidden at INFO")
    assert stream.getvalue() == "INFO symphony.t: hello world\n"


def test_default_config_is_console_only(tmp_path: Path) -> None:
    stream = io.StringIO()
    logger = init_logging(stream=stream)
    assert logger is logging.getLogger("symphony")
    assert [type(h) for h in logger.handlers] == [logging.StreamHandler]
    assert logger.level == logging.INFO
    get_logger("t").warning("w")
    assert stream.getvalue().rstrip().endswith("WARNING  symphony.t: w")


def test_console_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    init_logging(LoggingConfig(format="%(message)s"))
    get_logger("t").error("to stderr")
    captured = capsys.readouterr()
    assert captured.err == "to stderr\n"
    assert captured.out == ""


@pytest.mark.parametrize(
    ("color", "stream_cls", "no_color", "coloured"),
    [
        ("auto", io.StringIO, False, False),
        ("auto", FakeTty, False, True),
        ("auto", FakeTty, True, False),
        ("always", io.StringIO, False, True),
        ("never", FakeTty, False, False),
    ],
)
def test_console_colour(
    monkeypatch: pytest.MonkeyPatch,
    color: str,
    stream_cls: type[io.StringIO],
    no_color: bool,
    coloured: bool,
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    stream = stream_cls()
    init_logging(LoggingConfig(color=color, format="%(message)s"), stream=stream)  # type: ignore[arg-type]
    get_logger("t").error("msg")
    if coloured:
        assert stream.getvalue() == "\x1b[31mmsg\x1b[0m\n"
    else:
        assert stream.getvalue() == "msg\n"


def test_dumb_terminal_gets_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "dumb")
    stream = FakeTty()
    init_logging(LoggingConfig(format="%(message)s"), stream=stream)
    get_logger("t").warning("plain")
    assert stream.getvalue() == "plain\n"


def test_console_formatter_colours_by_level_without_touching_the_record() -> None:
    fmt = ConsoleFormatter("%(levelname)-8s|%(message)s", colour=True)
    rec = logging.LogRecord("n", logging.WARNING, "f", 1, "m", None, None)
    assert fmt.format(rec) == "\x1b[33mWARNING |m\x1b[0m"
    assert rec.levelname == "WARNING"
    rec5 = logging.LogRecord("n", 5, "f", 1, "m", None, None)
    assert fmt.format(rec5) == "Level 5 |m"  # no colour for a custom level


# --------------------------------------------------------------------------- files
def test_json_lines_are_written(tmp_path: Path) -> None:
    init_logging(
        LoggingConfig(console=False, json=True, directory=tmp_path / "logs", level="DEBUG")
    )
    log = get_logger("jsontest")
    log.debug("one %d", 1, extra={"model": "m1", "ms": 1.5, "path": Path("/a"), "raw": b"\x01"})
    try:
        raise ValueError("bad thing")
    except ValueError:
        log.exception("two")
    log.info("three", extra={"obj": object(), "items": {1}}, stack_info=True)
    shutdown_logging()
    lines = (tmp_path / "logs" / "symphony.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["message"] for r in records] == ["one 1", "two", "three"]
    first = records[0]
    assert first["level"] == "DEBUG"
    assert first["logger"] == "symphony.jsontest"
    assert first["func"] == "test_json_lines_are_written"
    assert first["module"] == "test_log"
    assert isinstance(first["line"], int)
    assert first["ts"].endswith("+00:00")
    assert (first["model"], first["ms"], first["path"], first["raw"]) == ("m1", 1.5, "/a", "01")
    assert "ValueError: bad thing" in records[1]["exc"]
    assert records[2]["obj"].startswith("<object object")
    assert records[2]["items"] == [1]
    assert "test_json_lines_are_written" in records[2]["stack"]
    assert "exc" not in first


def test_json_formatter_keeps_unicode() -> None:
    rec = logging.LogRecord("n", logging.INFO, "f", 1, "héllo ✓", None, None)
    out = json.loads(JsonLinesFormatter().format(rec))
    assert out["message"] == "héllo ✓"


def test_text_file_and_levels_per_output(tmp_path: Path) -> None:
    stream = io.StringIO()
    init_logging(
        LoggingConfig(
            console=True,
            console_level="WARNING",
            file=True,
            file_level="DEBUG",
            json=True,
            json_level="ERROR",
            directory=tmp_path,
            format="%(levelname)s:%(message)s",
        ),
        stream=stream,
    )
    assert logging.getLogger("symphony").level == logging.DEBUG  # the lowest output level
    log = get_logger("lv")
    log.debug("d")
    log.warning("w")
    log.error("e")
    shutdown_logging()
    assert stream.getvalue() == "WARNING:w\nERROR:e\n"
    assert (tmp_path / "symphony.log").read_text() == "DEBUG:d\nWARNING:w\nERROR:e\n"
    json_lines = (tmp_path / "symphony.jsonl").read_text().splitlines()
    assert [json.loads(x)["message"] for x in json_lines] == ["e"]


def test_files_rotate(tmp_path: Path) -> None:
    init_logging(
        LoggingConfig(
            console=False,
            file=True,
            json=True,
            directory=tmp_path,
            max_bytes=500,
            backup_count=2,
            file_name="app.log",
            json_name="app.jsonl",
        )
    )
    log = get_logger("rot")
    for i in range(200):
        log.info("record number %04d with some padding to fill the file", i)
    shutdown_logging()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["app.jsonl", "app.jsonl.1", "app.jsonl.2", "app.log", "app.log.1", "app.log.2"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 500
    # the newest records are in the live files, older ones in .1, the oldest kept in .2
    assert "0199" in (tmp_path / "app.log").read_text().splitlines()[-1]
    last_json = json.loads((tmp_path / "app.jsonl").read_text().splitlines()[-1])
    assert last_json["message"].startswith("record number 0199")
    older = (tmp_path / "app.log.1").read_text()
    oldest = (tmp_path / "app.log.2").read_text()
    assert older
    assert oldest
    assert "0199" not in older
    for text in [older, oldest, (tmp_path / "app.jsonl.1").read_text()]:
        assert text.endswith("\n")


def test_log_directory_defaults_to_platform_log_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    init_logging(LoggingConfig(console=False, file=True))
    get_logger("d").warning("where")
    shutdown_logging()
    assert "where" in (tmp_path / "symphony" / "log" / "symphony.log").read_text()


def test_unusable_log_directory_is_storage_error(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    with pytest.raises(StorageError, match="blocker"):
        init_logging(LoggingConfig(file=True, directory=tmp_path / "blocker"))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "symphony.log").mkdir()  # a directory where the log file goes
    with pytest.raises(StorageError, match="cannot open log file"):
        init_logging(LoggingConfig(file=True, json=True, directory=tmp_path / "d"))
    assert logging.getLogger("symphony").handlers == []  # nothing half-installed


# --------------------------------------------------------------------------- idempotence
def test_reinit_replaces_outputs(tmp_path: Path) -> None:
    root = logging.getLogger("symphony")
    before = ours(root)
    first = io.StringIO()
    init_logging(LoggingConfig(format="%(message)s", file=True, directory=tmp_path), stream=first)
    assert len(ours(root)) == len(before) + 2
    file_handler = next(h for h in ours(root) if isinstance(h, logging.FileHandler))
    second = io.StringIO()
    init_logging(LoggingConfig(format="%(message)s"), stream=second)
    init_logging(LoggingConfig(format="%(message)s"), stream=second)
    assert len(ours(root)) == len(before) + 1
    assert file_handler.stream is None  # closed
    get_logger("x").warning("once")
    assert first.getvalue() == ""
    assert second.getvalue() == "once\n"


def test_other_handlers_are_left_alone() -> None:
    root = logging.getLogger("symphony")
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    try:
        init_logging(stream=io.StringIO())
        init_logging(stream=io.StringIO())
        shutdown_logging()
        assert root.handlers == [foreign]
    finally:
        root.removeHandler(foreign)


def test_shutdown_restores_level_and_propagation() -> None:
    root = logging.getLogger("symphony")
    assert (root.level, root.propagate) == (logging.NOTSET, True)
    init_logging(LoggingConfig(level="ERROR"), stream=io.StringIO())
    assert (root.level, root.propagate) == (logging.ERROR, False)
    init_logging(LoggingConfig(level="DEBUG"), stream=io.StringIO())
    shutdown_logging()
    assert (root.level, root.propagate, root.handlers) == (logging.NOTSET, True, [])
    shutdown_logging()  # nothing installed: a no-op


def test_no_outputs_keeps_propagation() -> None:
    root = logging.getLogger("symphony")
    init_logging(LoggingConfig(console=False, level="WARNING"))
    assert root.handlers == []
    assert root.propagate is True
    assert root.level == logging.WARNING


def test_root_logger_option(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    init_logging(LoggingConfig(format="%(name)s:%(message)s"), logger="", stream=stream)
    logging.getLogger("thirdparty").warning("captured")
    shutdown_logging("")
    assert stream.getvalue() == "thirdparty:captured\n"
    assert root.handlers == saved
