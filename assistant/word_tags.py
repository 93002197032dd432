"""jieba's part-of-speech tagger, with its word-tag table read from an SQLite file on demand.

Importing ``jieba.posseg`` reads all 349k lines of jieba's dictionary into a word -> tag
dict, 0.3-0.5 s that every fresh ``assistant ask`` paid to tag one question. Here the table
is written once per machine to ``cache_dir`` (SQLite: an open format, nothing pickled) and
the tagger looks up only the words it meets, a few dozen per question. The file is named by
the dictionary it was read from (path, size, modification time), so another jieba
dictionary builds another table. When the cache folder cannot be written, the table is read
into memory as jieba itself does it.

The tags are jieba's own: the same dictionary lines, split the way ``load_word_tag`` splits
them, and words added with ``jieba.add_word(word, tag=...)`` still take precedence.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Iterator

from assistant.sqlite_files import open_readonly, write_atomically

# Bump when what the table holds changes.
TAGS_VERSION = "1"


class StoredWordTags:
    """The part of a dict that ``jieba.posseg`` uses (``get``, ``update``), backed by SQLite.

    Looked-up words are remembered; ``update`` (jieba's user words) overrides the file.
    """

    def __init__(self, connection: sqlite3.Connection, location: str) -> None:
        self._connection = connection
        self._lock = threading.Lock()  # one connection, shared by the chat server's threads
        self._known: dict[str, str | None] = {}
        self.location = location

    def get(self, word: str, default: str | None = None) -> str | None:
        if word not in self._known:
            with self._lock:
                row = self._connection.execute("SELECT tag FROM tags WHERE word = ?", (word,)).fetchone()
            self._known[word] = row[0] if row else None
        tag = self._known[word]
        return default if tag is None else tag

    def __getitem__(self, word: str) -> str:
        tag = self.get(word)
        if tag is None:
            raise KeyError(word)
        return tag

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def update(self, tags: dict[str, str]) -> None:
        self._known.update(tags)


def dictionary_path(tokenizer) -> Path:
    """The dictionary file a jieba ``Tokenizer`` reads (jieba's bundled dict.txt by default)."""
    import jieba

    if tokenizer.dictionary == jieba.DEFAULT_DICT:
        return Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    return Path(tokenizer.dictionary)


def read_word_tags(lines: Iterator[bytes]) -> dict[str, str]:
    """word -> tag from jieba dictionary lines ``word freq tag`` (as ``POSTokenizer.load_word_tag``)."""
    tags: dict[str, str] = {}
    for line in lines:
        parts = line.strip().decode("utf-8").split(" ")
        if len(parts) == 3:
            tags[parts[0]] = parts[2]
    return tags


def open_word_tags(cache_dir: Path, dictionary: Path) -> StoredWordTags | None:
    """The stored table for ``dictionary``, written first if there is none; None if it cannot be written."""
    stat = dictionary.stat()
    name = hashlib.sha256(f"{TAGS_VERSION}|{dictionary.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    path = Path(cache_dir) / f"jieba-tags-{name.hexdigest()[:16]}.sqlite"
    stored = _open_stored(path)
    if stored is not None:
        return stored
    with dictionary.open("rb") as f:
        tags = read_word_tags(f)
    try:
        _write(path, tags)
    except (OSError, sqlite3.Error):
        return None
    return _open_stored(path)


def load_posseg(cache_dir: Path) -> ModuleType:
    """``jieba.posseg``, its default tagger reading word tags from the stored table.

    The module builds its tagger when imported, reading the dictionary through the
    tokenizer's ``get_dict_file``; for that one import the shared tokenizer hands it an
    empty file, and the stored table is put in afterwards. If another part of the process
    imported ``jieba.posseg`` first, it is returned as it is.
    """
    import jieba

    if "jieba.posseg" in sys.modules:
        return sys.modules["jieba.posseg"]
    dictionary = dictionary_path(jieba.dt)
    try:
        stored = open_word_tags(cache_dir, dictionary)
    except OSError:  # the dictionary itself is unreadable: let jieba report it
        stored = None
    if stored is None:
        import jieba.posseg

        return jieba.posseg
    jieba.dt.get_dict_file = lambda: _EmptyFile()  # instance attribute: shadows the method
    try:
        import jieba.posseg
    finally:
        del jieba.dt.get_dict_file
    tagger = jieba.posseg.dt
    stored.update(tagger.word_tag_tab)  # what the import merged in: words added with a tag before it
    tagger.word_tag_tab = stored
    return jieba.posseg


class _EmptyFile:
    """A dictionary file with no lines (what ``load_word_tag`` iterates over and closes)."""

    name = "<stored word tags>"

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


def _open_stored(path: Path) -> StoredWordTags | None:
    connection = open_readonly(path, "SELECT word, tag FROM tags LIMIT 1")
    return None if connection is None else StoredWordTags(connection, str(path))


def _write(path: Path, tags: dict[str, str]) -> None:
    def fill(connection: sqlite3.Connection) -> None:
        connection.execute("CREATE TABLE tags (word TEXT PRIMARY KEY, tag TEXT NOT NULL) WITHOUT ROWID")
        connection.executemany("INSERT INTO tags VALUES (?, ?)", tags.items())

    write_atomically(path, fill)
