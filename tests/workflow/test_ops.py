"""Built-in operators and instruments: real work on a small workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symphony.commons.errors import NotFoundError, ValidationError
from symphony.workflow.model import InstrumentNode, ModelSpec, port
from symphony.workflow.ops import OperatorRegistry, default_registry
from symphony.workflow.ops import builtin as b
from symphony.workflow.ops.instruments import ModelRegistry, render_prompt, run_instrument


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "m.py").write_text("def f():\n    return 1\n\n# TODO: more\n")
    (tmp_path / "src" / "deep" / "x.pyx").write_text("cdef int x = 1\n")
    (tmp_path / "notes.md").write_text("# Notes\nalpha beta\nbeta gamma")  # no final newline
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "junk.py").write_text("junk\n")
    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    return tmp_path


def test_scan_include_exclude(tree: Path) -> None:
    out = b.fs_scan({}, {"root": str(tree), "include": ["**/*.py", "**/*.pyx", "*.md"],
                         "exclude": ["build/**"]})
    names = sorted(Path(p).relative_to(tree).as_posix() for p in out["files"])  # type: ignore[union-attr]
    assert names == ["notes.md", "src/deep/x.pyx", "src/m.py"]
    assert out["count"] == 3
    everything = b.fs_scan({}, {"root": str(tree)})
    assert everything["count"] == 5
    with pytest.raises(ValidationError, match="not a directory"):
        b.fs_scan({}, {"root": str(tree / "missing")})
    with pytest.raises(ValidationError, match="max_files"):
        b.fs_scan({}, {"root": str(tree), "max_files": 2})
    with pytest.raises(ValidationError, match="include"):
        b.fs_scan({}, {"root": str(tree), "include": 3})


def test_count_lines_group_and_describe(tree: Path) -> None:
    files = [str(tree / "src" / "m.py"), str(tree / "src" / "deep" / "x.pyx"),
             str(tree / "notes.md")]
    rows = b.text_count_lines({"files": files}, {})["rows"]
    by = {Path(str(r["path"])).name: r for r in rows}  # type: ignore[union-attr]
    assert by["m.py"]["lines"] == 4 and by["m.py"]["blank"] == 1
    assert by["m.py"]["language"] == "Python" and by["x.pyx"]["language"] == "Cython"
    assert by["notes.md"]["lines"] == 3 and by["notes.md"]["words"] == 6
    table = b.stats_group_sum({"rows": rows}, {"key": "language", "value": "lines"})["table"]
    assert isinstance(table, dict)
    assert list(table) == ["Python", "Markdown", "Cython", "total"]  # by lines, descending
    assert table["total"]["files"] == 3 and table["total"]["lines"] == 8
    stats = b.stats_describe({"rows": rows}, {"value": "lines"})["stats"]
    assert stats == {"count": 3, "sum": 8.0, "min": 1.0, "max": 4.0, "mean": 8 / 3,
                     "median": 3.0, "p90": 4.0}
    top = b.stats_top({"rows": rows}, {"value": "lines", "n": 1})["rows"]
    assert [Path(str(r["path"])).name for r in top] == ["m.py"]  # type: ignore[union-attr]
    assert b.stats_count({"items": rows}, {}) == {"count": 3}


def test_grep_split_normalize_words_join(tree: Path) -> None:
    m = b.text_grep({"files": [str(tree / "src" / "m.py")]}, {"pattern": "TODO|FIXME"})
    assert m["count"] == 1 and m["matches"][0]["line"] == 4  # type: ignore[index]
    with pytest.raises(ValidationError, match="bad pattern"):
        b.text_grep({"files": []}, {"pattern": "("})
    chunks = b.text_split({"text": "aaaa\nbb\ncccccc\n"}, {"size": 5})["chunks"]
    assert chunks == ["aaaa\n", "bb\n", "ccccc", "c\n"]
    assert "".join(chunks) == "aaaa\nbb\ncccccc\n"  # type: ignore[arg-type]
    assert b.text_normalize({"text": "Cafe\u0301  \r\nX\r"}, {"lower": True}) == {
        "text": "caf\u00e9\nx\n"}
    words = b.text_words({"text": "beta alpha beta Beta x"}, {"top": 2})["words"]
    assert words == [{"word": "beta", "count": 3}, {"word": "alpha", "count": 1}]
    assert b.text_join({"parts": ["a", "b"]}, {"separator": "-"}) == {"text": "a-b"}


def test_reports_and_write(tmp_path: Path) -> None:
    table = {"Python": {"files": 2, "lines": 1200}, "total": {"files": 2, "lines": 1200}}
    md = b.report_markdown({"languages": table}, {"title": "T"})["text"]
    assert isinstance(md, str) and md.startswith("# T\n")
    assert "| languages | files | lines |" in md and "| Python | 2 | 1,200 |" in md
    filled = b.report_markdown({"count": 3}, {"template": "{count} markers"})["text"]
    assert "3 markers" in str(filled)
    with pytest.raises(ValidationError, match="template field"):
        b.report_markdown({}, {"template": "{nope}"})
    js = json.loads(str(b.report_json({"b": 1, "a": [1]}, {})["text"]))
    assert js == {"a": [1], "b": 1}
    out = b.fs_write({"text": "hello"}, {"path": str(tmp_path / "d" / "f.md")})
    assert (tmp_path / "d" / "f.md").read_text() == "hello" and out["bytes"] == 5
    assert b.fs_read({"path": str(tmp_path / "d" / "f.md")}, {"max_bytes": 3})["text"] == "hel"
    with pytest.raises(ValidationError, match="path"):
        b.fs_write({"text": "x"}, {})


def test_cpu_fail_and_identity() -> None:
    assert b.core_cpu({}, {"n": 10}) == {"value": sum(i * i for i in range(10))}
    with pytest.raises(b.OperatorFailed, match="boom"):
        b.core_fail({}, {"message": "boom"})
    assert b.core_identity({"a": 1}, {}) == {"a": 1}


def test_registry() -> None:
    reg = default_registry()
    assert "fs.scan" in reg and reg.get("text.count_lines").mode == "process"
    with pytest.raises(NotFoundError, match=r"did you mean fs\.scan"):
        reg.get("fs.scna")
    mine = reg.copy()

    async def a(inputs: object, config: object) -> dict[str, object]:
        return {}

    assert mine.register("my.async", a).mode == "async"  # type: ignore[arg-type]
    assert "my.async" not in reg
    with pytest.raises(ValidationError, match="already registered"):
        mine.register("fs.scan", b.fs_scan)
    with pytest.raises(ValidationError, match="coroutine"):
        OperatorRegistry().register("x", a, mode="inline")  # type: ignore[arg-type]
    names = [s.name for s in reg]
    assert names == sorted(names) and len(names) >= 20


async def test_instruments_with_the_stub_model() -> None:
    node = InstrumentNode(id="s", model=ModelSpec.parse("local/echo"),
                          prompt="Summarise:\n{input}", inputs=(port("input", "text"),),
                          outputs=(port("output", "text"),), params={"max_lines": 2})
    out = await run_instrument(node, {"input": "line one\nline two\nline three"},
                               ModelRegistry())
    assert out == {"output": "[local/echo] Summarise: / line one"}
    with pytest.raises(ValidationError, match="input"):
        render_prompt(node, {})
    other = InstrumentNode(id="o", model=ModelSpec.parse("openai/gpt-4"), prompt="hi")
    with pytest.raises(NotFoundError, match="openai/gpt-4"):
        await run_instrument(other, {}, ModelRegistry())
