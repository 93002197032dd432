"""SQLite files built once per machine (the English dictionary index, jieba's word tags, WordNet's
noun classes): how they are written so readers never see half a file, and how they are opened for reading."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Callable, Sequence


def open_readonly(path: Path, *probes: str) -> sqlite3.Connection | None:
    """``path`` opened read-only (shared between threads), or None when it is missing or any
    ``probes`` query fails on it (an unreadable file is then rebuilt by its owner)."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        for probe in probes:
            connection.execute(probe).fetchall()
    except sqlite3.Error:
        return None
    return connection


def write_atomically(path: Path, fill: Callable[[sqlite3.Connection], None]) -> None:
    """Let ``fill`` write a private temporary file, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        connection = sqlite3.connect(tmp)
        try:
            with connection:
                fill(connection)
        finally:
            connection.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def open_or_build(path: Path, probes: Sequence[str],
                  build: Callable[[], Callable[[sqlite3.Connection], None]]) -> tuple[sqlite3.Connection, str]:
    """The file at ``path`` opened read-only (``probes`` as in :func:`open_readonly`), or, when it
    is missing or unreadable, built: ``build()`` does the costly reading once and returns the
    function that fills a database, which writes the file atomically. When the folder cannot be
    written, the database lives in memory for this process. Returns the connection and where it is."""
    connection = open_readonly(path, *probes)
    if connection is not None:
        return connection, str(path)
    fill = build()
    try:
        write_atomically(path, fill)
        connection = open_readonly(path, *probes)
    except (OSError, sqlite3.Error):  # a read-only or full cache folder: keep it for this process only
        connection = None
    if connection is not None:
        remove_superseded(path)
        return connection, str(path)
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    fill(memory)
    return memory, ":memory:"


# "cedict-0123456789abcdef.sqlite": a kind of file, and the fingerprint of what it was built from.
_FINGERPRINTED = re.compile(r"^(?P<kind>.+)-[0-9a-f]{16}\.sqlite$")


def remove_superseded(path: Path, keep: int = 1) -> list[Path]:
    """Delete the files of the same kind as ``path`` built from other sources (an older release's
    dictionary, 20-40 MB each), all but the ``keep`` newest: upgrades do not fill the cache
    folder, and two installs used in turn (a checkout and a release) do not rebuild each other's
    file every time. A process still reading a deleted file keeps it open. Returns what was removed."""
    match = _FINGERPRINTED.match(path.name)
    if match is None:
        return []
    others = [other for other in path.parent.glob(f"{match['kind']}-*.sqlite")
              if other != path and (same := _FINGERPRINTED.match(other.name)) and same["kind"] == match["kind"]]
    others.sort(key=_modified, reverse=True)
    removed = []
    for other in others[keep:]:
        try:
            other.unlink()
            removed.append(other)
        except OSError:  # another user's file, or already gone
            pass
    return removed


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
