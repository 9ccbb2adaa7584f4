"""The built-in operators: real work on a code workspace (files, text, statistics, reports).

Every function here is ``fn(inputs, config) -> outputs`` (see :mod:`symphony.workflow.ops`)
and module-level, so it pickles by reference into worker processes. Bad config or inputs
raise :class:`~symphony.commons.errors.ValidationError` naming the operator and the value.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from symphony.commons.errors import SymphonyError, ValidationError

if TYPE_CHECKING:
    from symphony.workflow.ops import OperatorRegistry, Outputs

__all__ = ["LANGUAGES", "language_of", "register_all"]

LANGUAGES: Mapping[str, str] = {
    ".py": "Python", ".pyi": "Python", ".pyx": "Cython", ".pxd": "Cython",
    ".c": "C", ".h": "C", ".cc": "C++", ".cpp": "C++", ".hpp": "C++", ".rs": "Rust",
    ".go": "Go", ".js": "JavaScript", ".ts": "TypeScript", ".java": "Java",
    ".md": "Markdown", ".rst": "reStructuredText", ".txt": "Text", ".toml": "TOML",
    ".json": "JSON", ".yaml": "YAML", ".yml": "YAML", ".cfg": "INI", ".ini": "INI",
    ".sh": "Shell", ".html": "HTML", ".css": "CSS", ".sql": "SQL",
}
"""Language by file suffix (anything else is ``"other"``)."""


def language_of(path: str) -> str:
    """The language of ``path`` by suffix (``Makefile`` → ``Make``), else ``"other"``."""
    name = os.path.basename(path)
    if name == "Makefile":
        return "Make"
    return LANGUAGES.get(os.path.splitext(name)[1].lower(), "other")


# --------------------------------------------------------------------------- helpers
def _cfg(config: Mapping[str, object], key: str, kind: type, default: object, op: str) -> object:
    v = config.get(key, default)
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise ValidationError(
            f"operator {op}: config {key!r} must be {kind.__name__}, got {v!r}",
            details={"operator": op, "key": key},
        )
    return v


def _str_list(config: Mapping[str, object], key: str, default: list[str], op: str) -> list[str]:
    v = config.get(key, default)
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ValidationError(f"operator {op}: config {key!r} must be a list of strings, "
                              f"got {v!r}", details={"operator": op, "key": key})
    return list(v)


def _input(inputs: Mapping[str, object], name: str, op: str) -> object:
    try:
        return inputs[name]
    except KeyError:
        raise ValidationError(f"operator {op}: missing input {name!r} (got "
                              f"{sorted(inputs) or 'none'})", details={"operator": op}) from None


def _paths(inputs: Mapping[str, object], name: str, op: str) -> list[str]:
    v = _input(inputs, name, op)
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ValidationError(f"operator {op}: input {name!r} must be a list of paths")
    return list(v)


def _glob_match(rel: str, patterns: list[str]) -> bool:
    for p in patterns:
        if fnmatch.fnmatchcase(rel, p):
            return True
        # "a/**" also matches "a" itself and "**/x" matches "x" at the top level
        if p.endswith("/**") and (rel == p[:-3] or rel.startswith(p[:-2])):
            return True
        if p.startswith("**/") and fnmatch.fnmatchcase(rel, p[3:]):
            return True
    return False


# --------------------------------------------------------------------------- fs
def fs_scan(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """List the files under ``root`` matching ``include`` and not ``exclude`` globs.

    Config: ``root`` (default ``.``, or the ``root`` input), ``include`` (default ``**/*``),
    ``exclude`` (default none; a pattern ending ``/**`` prunes the directory), ``max_files``
    (default 100,000). Outputs: ``files`` (paths as given relative to the current
    directory, sorted), ``count``, ``bytes`` (total size).
    """
    op = "fs.scan"
    root = inputs.get("root", config.get("root", "."))
    if not isinstance(root, str):
        raise ValidationError(f"operator {op}: root must be a path string, got {root!r}")
    if not os.path.isdir(root):
        raise ValidationError(f"operator {op}: root {root!r} is not a directory",
                              details={"operator": op, "root": root})
    include = _str_list(config, "include", ["**/*"], op)
    exclude = _str_list(config, "exclude", [], op)
    limit = _cfg(config, "max_files", int, 100_000, op)
    assert isinstance(limit, int)
    files: list[str] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir.replace(os.sep, "/") + "/"
        dirnames[:] = sorted(d for d in dirnames if not _glob_match(reldir + d, exclude))
        for name in sorted(filenames):
            rel = reldir + name
            if _glob_match(rel, exclude) or not _glob_match(rel, include):
                continue
            full = os.path.join(dirpath, name)
            if not os.path.isfile(full):
                continue
            files.append(os.path.normpath(full))
            total += os.path.getsize(full)
            if len(files) > limit:
                raise ValidationError(f"operator {op}: more than max_files={limit} files "
                                      f"under {root!r}; narrow include/exclude")
    files.sort()
    return {"files": files, "count": len(files), "bytes": total}


def fs_read(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Read a text file (UTF-8, undecodable bytes replaced). Config: ``max_bytes``."""
    op = "fs.read"
    path = _input(inputs, "path", op)
    if not isinstance(path, str):
        raise ValidationError(f"operator {op}: path must be a string, got {path!r}")
    limit = _cfg(config, "max_bytes", int, 10_000_000, op)
    assert isinstance(limit, int)
    with open(path, "rb") as f:
        data = f.read(limit)
    return {"text": data.decode("utf-8", "replace"), "path": path}


def fs_write(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Write the ``text`` input to ``config.path`` atomically (temp file + rename)."""
    op = "fs.write"
    text = _input(inputs, "text", op)
    if not isinstance(text, str):
        text = json.dumps(text, indent=2, sort_keys=True, default=str)
    path = inputs.get("path", config.get("path"))
    if not isinstance(path, str) or not path:
        raise ValidationError(f"operator {op}: config 'path' must be a non-empty string")
    parent = os.path.dirname(path) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return {"path": path, "bytes": len(text.encode())}


# --------------------------------------------------------------------------- text
def _count_file(path: str) -> dict[str, object]:
    with open(path, "rb") as f:
        data = f.read()
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    blank = sum(1 for ln in data.splitlines() if not ln.strip())
    return {"path": path, "language": language_of(path), "lines": lines, "blank": blank,
            "words": len(data.split()), "bytes": len(data)}


def text_count_lines(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Count lines, blank lines, words and bytes of every file (``files`` input).

    Outputs ``rows``: one dict per file (path, language, lines, blank, words, bytes).
    """
    rows = [_count_file(p) for p in _paths(inputs, "files", "text.count_lines")]
    return {"rows": rows, "count": len(rows)}


def text_grep(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Lines matching the regular expression ``config.pattern`` in the ``files``."""
    op = "text.grep"
    pattern = _cfg(config, "pattern", str, "", op)
    assert isinstance(pattern, str)
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ValidationError(f"operator {op}: bad pattern {pattern!r}: {exc}") from None
    matches: list[dict[str, object]] = []
    for path in _paths(inputs, "files", op):
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if rx.search(line):
                    matches.append({"path": path, "line": lineno, "text": line.strip()[:200]})
    return {"matches": matches, "count": len(matches)}


def text_normalize(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """NFC-normalise, unify newlines, strip trailing spaces; ``lower`` optional."""
    text = _input(inputs, "text", "text.normalize")
    if not isinstance(text, str):
        raise ValidationError("operator text.normalize: input 'text' must be a string")
    out = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    out = "\n".join(line.rstrip() for line in out.split("\n"))
    if config.get("lower"):
        out = out.lower()
    return {"text": out}


def text_split(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Split ``text`` into chunks of at most ``size`` characters on line boundaries."""
    op = "text.split"
    text = _input(inputs, "text", op)
    if not isinstance(text, str):
        raise ValidationError(f"operator {op}: input 'text' must be a string")
    size = _cfg(config, "size", int, 2000, op)
    assert isinstance(size, int)
    if size <= 0:
        raise ValidationError(f"operator {op}: size must be > 0, got {size}")
    chunks: list[str] = []
    cur: list[str] = []
    n = 0
    for line in text.splitlines(keepends=True):
        while len(line) > size:  # a very long line is cut
            if cur:
                chunks.append("".join(cur))
                cur, n = [], 0
            chunks.append(line[:size])
            line = line[size:]
        if n + len(line) > size and cur:
            chunks.append("".join(cur))
            cur, n = [], 0
        cur.append(line)
        n += len(line)
    if cur:
        chunks.append("".join(cur))
    return {"chunks": chunks, "count": len(chunks)}


def text_words(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """The ``top`` most frequent identifier-like words of ``text`` (``min_length``)."""
    op = "text.words"
    text = _input(inputs, "text", op)
    if not isinstance(text, str):
        raise ValidationError(f"operator {op}: input 'text' must be a string")
    top = _cfg(config, "top", int, 20, op)
    minlen = _cfg(config, "min_length", int, 3, op)
    assert isinstance(top, int) and isinstance(minlen, int)
    words = Counter(w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
                    if len(w) >= minlen)
    return {"words": [{"word": w, "count": c} for w, c in words.most_common(top)]}


def text_join(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Join the ``parts`` (list of strings) with ``config.separator``."""
    parts = _input(inputs, "parts", "text.join")
    if not isinstance(parts, list | tuple):
        raise ValidationError("operator text.join: input 'parts' must be a list")
    sep = _cfg(config, "separator", str, "\n", "text.join")
    assert isinstance(sep, str)
    return {"text": sep.join(str(p) for p in parts)}


# --------------------------------------------------------------------------- stats
def stats_count(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """The number of ``items``."""
    items = _input(inputs, "items", "stats.count")
    if not isinstance(items, list | tuple | dict | str):
        raise ValidationError("operator stats.count: input 'items' must be a collection")
    return {"count": len(items)}


def _rows(inputs: Mapping[str, object], op: str) -> list[Mapping[str, object]]:
    rows = _input(inputs, "rows", op)
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise ValidationError(f"operator {op}: input 'rows' must be a list of objects")
    return rows


def stats_group_sum(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Sum ``value`` per ``key`` over ``rows``; also file counts per key.

    Outputs ``table``: ``{key: {"files": n, value: sum, ...}}`` sorted by the sum, descending,
    plus a ``"total"`` entry; extra numeric columns named in ``also`` are summed too.
    """
    op = "stats.group_sum"
    key = _cfg(config, "key", str, "language", op)
    value = _cfg(config, "value", str, "lines", op)
    also = _str_list(config, "also", ["words", "bytes"], op)
    assert isinstance(key, str) and isinstance(value, str)
    cols = [value, *[c for c in also if c != value]]
    groups: dict[str, dict[str, int | float]] = {}
    for r in _rows(inputs, op):
        g = groups.setdefault(str(r.get(key, "?")), {"files": 0, **{c: 0 for c in cols}})
        g["files"] += 1
        for c in cols:
            v = r.get(c, 0)
            if isinstance(v, int | float) and not isinstance(v, bool):
                g[c] += v
    ordered = dict(sorted(groups.items(), key=lambda kv: (-kv[1][value], kv[0])))
    total: dict[str, int | float] = {"files": 0, **{c: 0 for c in cols}}
    for g in ordered.values():
        for c, v in g.items():
            total[c] += v
    return {"table": {**ordered, "total": total}, "groups": len(ordered)}


def stats_describe(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Count, sum, min, max, mean, median and p90 of ``config.value`` over ``rows``."""
    op = "stats.describe"
    value = _cfg(config, "value", str, "lines", op)
    xs = sorted(float(v) for r in _rows(inputs, op)
                if isinstance(v := r.get(str(value)), int | float) and not isinstance(v, bool))
    if not xs:
        return {"stats": {"count": 0}}
    p90 = xs[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]
    return {"stats": {"count": len(xs), "sum": sum(xs), "min": xs[0], "max": xs[-1],
                      "mean": statistics.fmean(xs), "median": statistics.median(xs),
                      "p90": p90}}


def stats_top(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """The ``n`` rows with the largest ``config.value``."""
    op = "stats.top"
    value = str(_cfg(config, "value", str, "lines", op))
    n = _cfg(config, "n", int, 10, op)
    assert isinstance(n, int)
    rows = sorted(_rows(inputs, op), key=lambda r: (-float(str(r.get(value, 0))),
                                                     str(r.get("path", ""))))
    return {"rows": [dict(r) for r in rows[:n]]}


# --------------------------------------------------------------------------- report
def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _md_table(rows: list[Mapping[str, object]], first: str | None = None) -> list[str]:
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    if first is not None:
        cols = [first, *[c for c in cols if c != first]]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return out


def _md_value(name: str, v: object) -> list[str]:
    if isinstance(v, Mapping) and v and all(isinstance(x, Mapping) for x in v.values()):
        rows: list[Mapping[str, object]] = [{name: k, **x} for k, x in v.items()]
        return _md_table(rows, name)
    if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
        return _md_table(v)
    if isinstance(v, Mapping):
        return [f"- **{k}**: {_fmt(x)}" for k, x in v.items()]
    if isinstance(v, list):
        return [f"- {_fmt(x)}" for x in v]
    return [_fmt(v)]


def report_markdown(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """A Markdown report: ``title``, then ``template`` (``{input}`` fields filled) or every
    input rendered (tables for mappings of objects and lists of objects)."""
    op = "report.markdown"
    title = _cfg(config, "title", str, "Report", op)
    template = config.get("template")
    lines = [f"# {title}", ""]
    if template is not None:
        if not isinstance(template, str):
            raise ValidationError(f"operator {op}: template must be a string")
        try:
            lines.append(template.format(**{k: _fmt(v) for k, v in inputs.items()}))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationError(f"operator {op}: template field {exc} has no input "
                                  f"(inputs: {sorted(inputs)})") from None
    else:
        for name in sorted(inputs):
            if len(inputs) > 1:
                lines += [f"## {name}", ""]
            lines += [*_md_value(name, inputs[name]), ""]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    lines += ["", f"_Generated by Symphony at {stamp}._"]
    return {"text": "\n".join(lines).rstrip() + "\n"}


def report_json(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Every input as one pretty JSON document (sorted keys)."""
    return {"text": json.dumps(dict(inputs), indent=2, sort_keys=True, default=str) + "\n"}


# --------------------------------------------------------------------------- core
def core_noop(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Do nothing; outputs nothing (benchmarks, ordering)."""
    return {}


async def core_noop_async(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """An async operator that does nothing (never yields)."""
    return {}


def core_identity(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Pass every input through under the same name (and ``value`` → ``value``)."""
    return dict(inputs)


async def core_sleep(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Sleep ``config.seconds`` (I/O stand-in); passes inputs through."""
    seconds = _cfg(config, "seconds", float, 0.01, "core.sleep")
    assert isinstance(seconds, float)
    await trio.sleep(seconds)
    return dict(inputs)


def core_cpu(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Burn CPU: sum of squares of ``range(config.n)`` (CPU-bound stand-in)."""
    n = _cfg(config, "n", int, 1_000_000, "core.cpu")
    assert isinstance(n, int)
    total = 0
    for i in range(n):
        total += i * i
    return {"value": total}


class OperatorFailed(SymphonyError):
    """Raised by ``core.fail`` (tests of failure handling)."""


def core_fail(inputs: Mapping[str, object], config: Mapping[str, object]) -> Outputs:
    """Fail with ``config.message``; with ``config.marker`` (a file path), fail only while
    the file does not exist yet, creating it (fails once, then succeeds)."""
    marker = config.get("marker")
    if isinstance(marker, str):
        if os.path.exists(marker):
            return dict(inputs)
        Path(marker).touch()
    raise OperatorFailed(str(config.get("message", "core.fail was asked to fail")))


def register_all(reg: OperatorRegistry) -> None:
    """Register every built-in operator into ``reg``."""
    for name, fn, mode in (
        ("fs.scan", fs_scan, "inline"),
        ("fs.read", fs_read, "inline"),
        ("fs.write", fs_write, "inline"),
        ("text.count_lines", text_count_lines, "process"),
        ("text.grep", text_grep, "process"),
        ("text.normalize", text_normalize, "inline"),
        ("text.split", text_split, "inline"),
        ("text.words", text_words, "inline"),
        ("text.join", text_join, "inline"),
        ("stats.count", stats_count, "inline"),
        ("stats.group_sum", stats_group_sum, "inline"),
        ("stats.describe", stats_describe, "inline"),
        ("stats.top", stats_top, "inline"),
        ("report.markdown", report_markdown, "inline"),
        ("report.json", report_json, "inline"),
        ("core.noop", core_noop, "inline"),
        ("core.noop_async", core_noop_async, "async"),
        ("core.identity", core_identity, "inline"),
        ("core.sleep", core_sleep, "async"),
        ("core.cpu", core_cpu, "process"),
        ("core.fail", core_fail, "inline"),
    ):
        reg.register(name, fn, mode=mode)  # type: ignore[arg-type]
