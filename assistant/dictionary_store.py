"""The English -> Chinese dictionary index, stored as an SQLite file and built once per machine.

Building the index from CC-CEDICT and jieba's word list (``assistant.query``) costs about 5 s
of CPU, which every English question would pay in a fresh process. Opening the stored file costs milliseconds,
and a question looks up only a few dozen keys. The file is named by a fingerprint of
everything it is built from (the CC-CEDICT file, the glossary, jieba's word list and ``DICTIONARY_VERSION``),
so changing any of them builds a new one. SQLite is an open format that any tool reads;
nothing is pickled. When the cache folder cannot be written, the index lives in memory for
the process, as before.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from functools import cached_property
from pathlib import Path
from typing import Callable, Sequence

from assistant.sqlite_files import open_or_build

# Bump when assistant.query changes what the index holds (keys, tiers, scores).
DICTIONARY_VERSION = "10"

# (tier, score, headword): sorts best first.
Match = tuple[int, float, str]
# The tier of a pinyin row for an ordinary word (挂帅 "guashuai"), kept apart from proper nouns'
# rows: those alone tell whether a word is a romanised Chinese name.
WORD_PINYIN_TIER = 9
# The tier of a single character's reading ("lei" -> 雷, 类, 累): the syllables a romanised name
# is spelled from (``assistant.romanised``), never a rendering of a word by itself.
CHARACTER_TIER = 10
Entries = dict[str, list[Match]]


class Dictionary:
    """English key -> matches and toneless pinyin of proper nouns and of words -> matches, best first;
    which headwords the dictionary describes as places, and which it knows only as ordinary words."""

    def __init__(self, connection: sqlite3.Connection, location: str) -> None:
        self._connection = connection
        self._lock = threading.Lock()  # one connection, shared by the chat server's threads
        self.location = location  # the SQLite file, or ":memory:"

    def _rows(self, table: str, key: str) -> list[Match]:
        with self._lock:
            rows = self._connection.execute(f"SELECT tier, score, headword FROM {table} WHERE key = ?", (key,)).fetchall()
        return sorted((int(t), float(s), str(h)) for t, s, h in rows)

    def english(self, key: str) -> list[Match]:
        return self._rows("english", key)

    def pinyin(self, key: str) -> list[Match]:
        """Proper nouns romanised as ``key`` ("suining" -> 遂宁)."""
        return [m for m in self._rows("pinyin", key) if m[0] < WORD_PINYIN_TIER]

    def characters(self, syllable: str) -> list[str]:
        """The characters read as the toneless ``syllable`` ("lei" -> 类, 累, 雷 …), commonest first."""
        return [h for t, _, h in self._rows("pinyin", syllable) if t == CHARACTER_TIER]

    @cached_property
    def syllables(self) -> frozenset[str]:
        """Every toneless syllable some character is read as."""
        with self._lock:
            rows = self._connection.execute("SELECT DISTINCT key FROM pinyin WHERE tier = ?", (CHARACTER_TIER,)).fetchall()
        return frozenset(key for (key,) in rows)

    def word_pinyin(self, key: str) -> list[Match]:
        """Ordinary words whose toneless pinyin is ``key`` ("guashuai" -> 挂帅)."""
        return [m for m in self._rows("pinyin", key) if m[0] == WORD_PINYIN_TIER]

    def is_place(self, headword: str) -> bool:
        with self._lock:
            return self._connection.execute("SELECT 1 FROM places WHERE headword = ?", (headword,)).fetchone() is not None

    def is_ordinary_word(self, headword: str) -> bool:
        """Whether CC-CEDICT lists ``headword`` only as an ordinary word (lower-case pinyin: 古老,
        抗议, 联邦政府), never as a proper noun (甘肃, 金川)."""
        with self._lock:
            return self._connection.execute("SELECT 1 FROM ordinary WHERE headword = ?", (headword,)).fetchone() is not None

    def has_english(self, key: str) -> bool:
        with self._lock:
            return self._connection.execute("SELECT 1 FROM english WHERE key = ? LIMIT 1", (key,)).fetchone() is not None


def fingerprint(sources: Sequence[Path], stamp: str = "") -> str:
    h = hashlib.sha256(f"{DICTIONARY_VERSION}|{stamp}".encode() if stamp else DICTIONARY_VERSION.encode())
    for path in sources:
        h.update(b"|" + Path(path).read_bytes())
    return h.hexdigest()[:16]


def open_dictionary(cache_dir: Path, sources: Sequence[Path],
                    build: Callable[[], tuple[Entries, Entries, frozenset[str], frozenset[str]]],
                    stamp: str = "") -> Dictionary:
    """The stored index for ``sources`` (and ``stamp``, what else it is built from), built with
    ``build()`` (english, pinyin, places, ordinary words) when there is none yet."""
    path = Path(cache_dir) / f"cedict-{fingerprint(sources, stamp)}.sqlite"

    def built() -> Callable[[sqlite3.Connection], None]:
        english, pinyin, places, ordinary = build()
        return lambda connection: _fill(connection, english, pinyin, places, ordinary)

    return Dictionary(*open_or_build(path, _PROBES, built))


_PROBES = ("SELECT key FROM english LIMIT 1", "SELECT key FROM pinyin LIMIT 1", "SELECT headword FROM places LIMIT 1",
           "SELECT headword FROM ordinary LIMIT 1")


def _fill(connection: sqlite3.Connection, english: Entries, pinyin: Entries, places: frozenset[str],
          ordinary: frozenset[str]) -> None:
    with connection:
        for table, entries in (("english", english), ("pinyin", pinyin)):
            connection.execute(f"CREATE TABLE {table} (key TEXT NOT NULL, tier INTEGER, score REAL, headword TEXT)")
            connection.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                                   ((key, t, s, h) for key, matches in entries.items() for t, s, h in matches))
            connection.execute(f"CREATE INDEX {table}_key ON {table} (key)")
        connection.execute("CREATE TABLE places (headword TEXT PRIMARY KEY)")
        connection.executemany("INSERT INTO places VALUES (?)", ((h,) for h in sorted(places)))
        connection.execute("CREATE TABLE ordinary (headword TEXT PRIMARY KEY)")
        connection.executemany("INSERT INTO ordinary VALUES (?)", ((h,) for h in sorted(ordinary)))
