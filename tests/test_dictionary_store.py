"""The English -> Chinese dictionary index stored as SQLite: same answers as the in-memory build, built once."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from assistant.dictionary_store import CHARACTER_TIER, WORD_PINYIN_TIER, open_dictionary
from assistant.query import GLOSSARY_PATH, build_dictionary_entries, cedict_path

SMALL = ({"city": [(1, 0.5, "城市"), (0, 0.0, "城市"), (3, 2.0, "城邑")], "EU": [(1, 0.0, "欧盟")]},
         {"suining": [(2, -1.0, "遂宁")]}, frozenset({"遂宁"}), frozenset({"城市"}))


def _never_called():
    raise AssertionError("the stored index should have been used")


@pytest.fixture()
def source(tmp_path) -> Path:
    path = tmp_path / "glossary.tsv"
    path.write_text("innovation consortium\t创新联合体\n", encoding="utf-8")
    return path


def test_the_stored_index_answers_like_the_in_memory_build(tmp_path):
    english, pinyin, places, ordinary = build_dictionary_entries()
    stored = open_dictionary(tmp_path / "cache", [cedict_path(), GLOSSARY_PATH],
                             lambda: (english, pinyin, places, ordinary))
    assert stored.location.endswith(".sqlite") and Path(stored.location).is_file()
    rng = random.Random(7)
    for key in rng.sample(sorted(english), 300) + ["innovation", "inner mongolia", "US"]:
        assert stored.english(key) == sorted(english.get(key, [])), key
        assert stored.has_english(key) == (key in english)
    for key in rng.sample(sorted(pinyin), 100) + ["suining"]:
        rows = sorted(pinyin[key])
        assert stored.pinyin(key) == [m for m in rows if m[0] < WORD_PINYIN_TIER], key
        assert stored.word_pinyin(key) == [m for m in rows if m[0] == WORD_PINYIN_TIER], key
        assert stored.characters(key) == [h for t, _, h in rows if t == CHARACTER_TIER], key
    assert set(stored.syllables) == {key for key, rows in pinyin.items() if any(t == CHARACTER_TIER for t, _, _ in rows)}
    assert "雷" in stored.characters("lei") and "lei" in stored.syllables
    for headword in rng.sample(sorted(places), 50) + ["兰州", "包头"]:
        assert stored.is_place(headword), headword
    assert not stored.is_place("城市")
    for headword in rng.sample(sorted(ordinary), 50) + ["古老", "抗议"]:
        assert stored.is_ordinary_word(headword), headword
    assert not stored.is_ordinary_word("甘肃") and not stored.is_ordinary_word("金川")  # proper nouns
    assert stored.english("no such gloss at all") == [] and not stored.has_english("no such gloss at all")


def test_matches_come_best_first(tmp_path, source):
    dictionary = open_dictionary(tmp_path, [source], lambda: SMALL)
    assert dictionary.english("city") == [(0, 0.0, "城市"), (1, 0.5, "城市"), (3, 2.0, "城邑")]
    assert dictionary.pinyin("suining") == [(2, -1.0, "遂宁")]
    assert dictionary.has_english("EU") and not dictionary.has_english("eu")  # acronyms keep their case
    assert dictionary.is_place("遂宁") and not dictionary.is_place("城市")
    assert dictionary.is_ordinary_word("城市") and not dictionary.is_ordinary_word("遂宁")


def test_a_second_process_opens_the_stored_file_instead_of_building(tmp_path, source):
    first = open_dictionary(tmp_path, [source], lambda: SMALL)
    second = open_dictionary(tmp_path, [source], _never_called)
    assert second.location == first.location
    assert second.english("city") == first.english("city")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_changed_source_builds_a_new_index(tmp_path, source):
    before = open_dictionary(tmp_path, [source], lambda: SMALL)
    source.write_text("innovation consortium\t创新联合体\ntalent\t人才\n", encoding="utf-8")
    after = open_dictionary(tmp_path, [source], lambda: ({"talent": [(0, 0.0, "人才")]}, {}, frozenset(), frozenset()))
    assert after.location != before.location
    assert after.english("talent") == [(0, 0.0, "人才")] and after.english("city") == []


def test_only_the_newest_earlier_index_is_kept_when_a_new_one_is_written(tmp_path, source):
    other_kind = tmp_path / "jieba-tags-0123456789abcdef.sqlite"  # another kind of cache file: kept
    other_kind.write_bytes(b"")
    built = []
    for version in range(3):
        source.write_text(f"innovation consortium\t创新联合体\nv{version}\t版本\n", encoding="utf-8")
        built.append(open_dictionary(tmp_path, [source], lambda: SMALL))
        os.utime(built[-1].location, (1_000_000 + version, 1_000_000 + version))  # built in this order
    first, second, third = (Path(d.location) for d in built)
    assert not first.exists() and second.is_file() and third.is_file() and other_kind.exists()
    assert sorted(tmp_path.glob("cedict-*.sqlite")) == sorted([second, third])
    # A process that opened the removed file still reads it.
    assert built[0].english("EU") == [(1, 0.0, "欧盟")]


def test_a_damaged_stored_file_is_rebuilt(tmp_path, source):
    first = open_dictionary(tmp_path, [source], lambda: SMALL)
    Path(first.location).write_bytes(b"not a database")
    again = open_dictionary(tmp_path, [source], lambda: SMALL)
    assert again.english("EU") == [(1, 0.0, "欧盟")]
    with sqlite3.connect(again.location) as check:
        assert check.execute("SELECT count(*) FROM english").fetchone()[0] == 4


def test_an_unwritable_cache_folder_keeps_the_index_in_memory(tmp_path, source):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be", encoding="utf-8")
    dictionary = open_dictionary(not_a_folder, [source], lambda: SMALL)
    assert dictionary.location == ":memory:"
    assert dictionary.english("EU") == [(1, 0.0, "欧盟")]
