"""Metadata read on demand (assistant/index/rows.py): line spans, ids, lazy rows."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from assistant.index.rows import JsonlFile, LazyById, RowTables, chunk_key
from assistant.types import Chunk, Sentence


def write_lines(path, records, newline_at_end=True):
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    path.write_text(text + ("\n" if newline_at_end and records else ""), encoding="utf-8")


@pytest.mark.parametrize("newline_at_end", [True, False])
def test_lines_are_found_with_or_without_a_final_newline(tmp_path, newline_at_end):
    records = [{"doc_id": f"文章{i}", "text": "一句。\\n第二句" * i} for i in range(5)]
    write_lines(tmp_path / "a.jsonl", records, newline_at_end)
    file = JsonlFile(tmp_path / "a.jsonl")
    assert len(file) == 5 and list(file.records()) == records


def test_an_empty_file_has_no_lines(tmp_path):
    (tmp_path / "e.jsonl").write_bytes(b"")
    assert len(JsonlFile(tmp_path / "e.jsonl")) == 0


def test_stored_line_ends_are_used_only_when_they_fit_the_file(tmp_path):
    write_lines(tmp_path / "a.jsonl", [{"n": 1}, {"n": 22}])
    scanned = JsonlFile(tmp_path / "a.jsonl").line_ends
    assert [r["n"] for r in JsonlFile(tmp_path / "a.jsonl", scanned).records()] == [1, 22]
    stale = scanned - 1  # ends of another file: rescanned, not trusted
    assert [r["n"] for r in JsonlFile(tmp_path / "a.jsonl", stale).records()] == [1, 22]


def test_ids_with_any_characters_survive_the_tables_file(tmp_path):
    docs = ["a b", "报告\n2024", "文章·一\t\"x\""]  # a file name may hold a newline, a tab, quotes
    chunks = [Chunk(f"{i:016x}", doc, "文本", 0, 2, 0, "t", (Sentence(0, 2),)) for i, doc in enumerate(docs + ["a b"])]
    tables = RowTables.build(docs, chunks, [0, 1, 2, 3], [True] * 4)
    tables.save(tmp_path / "t.npz")
    loaded = RowTables.load(tmp_path / "t.npz")
    assert loaded.article_ids == docs and loaded.chunk_articles.tolist() == [0, 1, 2, 0]
    assert [loaded.chunk_row(c.chunk_id) for c in chunks] == [0, 1, 2, 3]
    assert loaded.chunk_row("ffffffffffffffff") is None and loaded.chunk_row("not hex") is None


@pytest.mark.parametrize("spelling", ["0x0000000000000001", "000000000000000A", " 0000000000000001", "1",
                                      "-1", "00000000000000001", None])
def test_only_the_exact_spelling_of_a_chunk_id_finds_its_row(spelling):
    chunks = [Chunk(f"{i:016x}", "d", "x", 0, 1, i, "t", ()) for i in range(12)]
    tables = RowTables.build(["d"], chunks, [], [])
    assert tables.chunk_row("0000000000000001") == 1 and tables.chunk_row("000000000000000a") == 10
    assert tables.chunk_row(spelling) is None


def test_a_repeated_chunk_id_maps_to_its_last_row_as_a_dict_would():
    chunks = [Chunk("00000000000000aa", "d", "x", 0, 1, i, "t", ()) for i in range(3)]
    tables = RowTables.build(["d"], chunks, [], [])
    assert tables.chunk_row("00000000000000aa") == 2 == {c.chunk_id: i for i, c in enumerate(chunks)}[chunks[0].chunk_id]
    assert chunk_key("00000000000000aa") == 170


def test_rows_read_from_many_threads_at_once_are_right(tmp_path):
    records = [{"doc_id": f"d{i}", "title": f"标题{i}", "text": "文" * i} for i in range(300)]
    write_lines(tmp_path / "m.jsonl", records)
    by_id = LazyById(JsonlFile(tmp_path / "m.jsonl"), [r["doc_id"] for r in records], lambda r: r["title"],
                     ValueError, keep=16)  # a small cache: threads evict each other's rows
    wrong: list[str] = []

    def read(offset: int) -> None:
        for i in range(300):
            doc = f"d{(i * 7 + offset) % 300}"
            if by_id[doc] != "标题" + doc[1:]:
                wrong.append(doc)

    threads = [threading.Thread(target=read, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong and len(by_id) == 300 and "d5" in by_id and "d300" not in by_id
    assert np.array_equal(np.asarray(list(by_id)), np.asarray([r["doc_id"] for r in records]))
