"""SQLite files built once per machine (the English dictionary index, jieba's word tags): how they
are written so readers never see half a file, and how they are opened for reading."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Callable


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
