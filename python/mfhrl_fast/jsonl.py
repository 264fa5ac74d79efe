"""Rows of a training loop: kept, shown and appended to a JSON-lines file as they come."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


class JsonLines:
    """``add(row)`` keeps ``row`` in :attr:`rows`, calls ``log(row)`` and appends it as one
    JSON line to ``path`` (flushed); a context manager closing the file."""

    def __init__(self, path: str | Path | None = None,
                 log: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.log = log
        self.file = open(path, "a") if path else None  # noqa: SIM115 (closed in close)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.log is not None:
            self.log(row)
        if self.file is not None:
            self.file.write(json.dumps(row) + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def __enter__(self) -> JsonLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_row_tables(folder: Path, rows: list[dict[str, Any]], stem: str) -> None:
    """``<stem>.jsonl`` and ``<stem>.csv`` with every row so far, each replaced atomically
    (the CSV's columns: every key of any row, in order of appearance)."""
    from .igm.checkpoint import write_text_atomic

    write_text_atomic(folder / f"{stem}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(folder / f"{stem}.csv", out.getvalue())
