"""The tantivy full-text index of an artifact store (derived data: rebuildable from it).

Traps of the tantivy binding (PLATFORM.md) handled here: documents are built with
``Document.from_dict`` (``Document(**kw)`` reports type errors only at ``commit()`` and can
break the writer), the searcher is reloaded after every commit (a commit is invisible until
``reload()``), and ``search()`` is never called with ``limit=0``.

The index writer is an exclusive lock across processes (tantivy's lock file). The writer is
taken only for the duration of one update and released after it, so several processes
sharing a store take turns; a process that finds the lock busy skips its update (the queue
in SQLite keeps the work for later).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from symphony.commons.errors import StorageError, ValidationError
from symphony.commons.fs import ensure_dir

__all__ = ["SearchIndex"]

_DEFAULT_FIELDS = ["name", "content", "meta", "tags"]
_HEAP = 15_000_000


def _schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("name", stored=False)
    sb.add_text_field("name_raw", stored=True, tokenizer_name="raw")
    sb.add_text_field("content", stored=False)
    sb.add_text_field("meta", stored=False)
    sb.add_json_field("attrs", stored=False)
    sb.add_text_field("tags", stored=False, tokenizer_name="raw")
    sb.add_text_field("content_type", stored=True, tokenizer_name="raw")
    sb.add_text_field("producer", stored=False, tokenizer_name="raw")
    sb.add_integer_field("created_at", stored=True, indexed=True, fast=True)
    sb.add_float_field("quality", stored=False, indexed=True, fast=True)
    return sb.build()


class SearchIndex:
    """A tantivy index in ``path`` with the artifact schema."""

    def __init__(self, path: Path) -> None:
        import tantivy

        self._tantivy = tantivy
        self.path = ensure_dir(path)
        self.schema = _schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise StorageError(f"cannot open search index {str(self.path)!r}: {exc}") from exc

    def _writer(self) -> Any | None:
        try:
            return self.index.writer(heap_size=_HEAP, num_threads=1)
        except ValueError as exc:
            if "lock" in str(exc).lower():
                return None
            raise StorageError(f"search index writer: {exc}") from exc

    def _doc(self, fields: dict[str, object]) -> Any:
        return self._tantivy.Document.from_dict(fields, self.schema)

    def _safe_doc(self, fields: dict[str, object]) -> Any:
        """The document, or -- if tantivy refuses a value (it raises a bare ``Exception``,
        e.g. for a JSON number out of range) -- the same without the structured metadata
        (still searchable as flattened text). A refused document must never block the
        queue behind it."""
        try:
            return self._doc(fields)
        except Exception:
            return self._doc({k: v for k, v in fields.items() if k != "attrs"})

    def apply(self, delete_ids: Sequence[str], docs: Sequence[dict[str, object]]) -> bool:
        """Delete ``delete_ids`` then add ``docs``, in one commit. False if the writer is
        busy (another process is updating)."""
        writer = self._writer()
        if writer is None:
            return False
        try:
            for hid in delete_ids:
                writer.delete_documents_by_term("id", hid)
            for fields in docs:
                writer.add_document(self._safe_doc(fields))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self.index.reload()
        return True

    def rebuild(self, docs: Sequence[dict[str, object]]) -> None:
        """Replace the whole index with ``docs``."""
        writer = self._writer()
        if writer is None:
            raise StorageError(
                f"search index {str(self.path)!r} is being updated by another process; retry"
            )
        try:
            writer.delete_all_documents()
            for fields in docs:
                writer.add_document(self._safe_doc(fields))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self.index.reload()

    def search(
        self,
        query: str,
        *,
        limit: int,
        content_type: str | None,
        tags: list[str],
        producer: str | None,
        name: str | None,
        since: float | None,
        until: float | None,
        min_quality: float | None,
    ) -> list[tuple[str, float, list[str], str, int]]:
        """``(id, score, names, content_type, created_at_us)``, best first (newest first,
        score 0, for an empty query)."""
        t = self._tantivy
        Q, occur = t.Query, t.Occur
        clauses: list[tuple[Any, Any]] = []
        if query.strip():
            try:
                clauses.append((occur.Must, self.index.parse_query(query, _DEFAULT_FIELDS)))
            except ValueError as exc:
                raise ValidationError(f"search query {query!r} is malformed: {exc}") from exc
        for field, value in (
            ("content_type", content_type),
            ("producer", producer),
            ("name_raw", name),
        ):
            if value is not None:
                clauses.append((occur.Must, Q.term_query(self.schema, field, value)))
        for tag in tags:
            clauses.append((occur.Must, Q.term_query(self.schema, "tags", tag)))
        if since is not None or until is not None:
            lo = None if since is None else int(since * 1_000_000)
            hi = None if until is None else int(until * 1_000_000)
            clauses.append(
                (occur.Must, Q.range_query(self.schema, "created_at", t.FieldType.Integer, lo, hi))
            )
        if min_quality is not None:
            clauses.append(
                (
                    occur.Must,
                    Q.range_query(
                        self.schema, "quality", t.FieldType.Float, float(min_quality), None
                    ),
                )
            )
        if not clauses:
            q = Q.all_query()
        elif len(clauses) == 1 and query.strip():
            q = clauses[0][1]
        else:
            if not query.strip():
                clauses.append((occur.Must, Q.all_query()))
            q = Q.boolean_query(clauses)
        searcher = self.index.searcher()
        if query.strip():
            result = searcher.search(q, limit=max(1, limit), count=False, weight_by_field="quality")
        else:
            result = searcher.search(
                q, limit=max(1, limit), count=False, order_by_field="created_at"
            )
        out: list[tuple[str, float, list[str], str, int]] = []
        for score, address in result.hits:
            doc = searcher.doc(address)
            out.append(
                (
                    doc["id"][0],
                    float(score) if query.strip() else 0.0,
                    list(doc.get_all("name_raw")),
                    (doc.get_first("content_type") or ""),
                    int(doc.get_first("created_at") or 0),
                )
            )
        return out

    def close(self) -> None:
        """Nothing to release (the writer is never kept); here for symmetry."""

    def destroy(self) -> None:
        """Remove the index directory (used by tests of rebuilds)."""
        shutil.rmtree(self.path, ignore_errors=True)
