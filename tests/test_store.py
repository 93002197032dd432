"""Tests for assistant.index.store: reading manifests, refusing bad folders, atomic replacement, open formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.index.dense import DenseIndex
from assistant.indexer import build_index
from assistant.index.lexical import LexicalIndex
from assistant.pipeline import Assistant
from assistant.index.store import FORMAT_VERSION, MANIFEST_NAME, IndexStoreError, load_index, read_manifest

QUESTION = "遂宁市技术合同认定登记额是多少？"


def build(settings, force: bool = False):
    return build_index([settings.corpus_dir], settings.index_dir, settings, force=force)


def snapshot(index_dir: Path) -> tuple[bytes, list[str]]:
    """The manifest bytes and every path under the index folder: equal snapshots = untouched index."""
    files = sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*"))
    return (index_dir / MANIFEST_NAME).read_bytes(), files


def data_dirs(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("data-*"))


def edit_manifest(index_dir: Path, **changes) -> None:
    path = index_dir / MANIFEST_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture()
def built(fresh_settings):
    """A private, freshly built index (fresh_settings) for tests that damage or rebuild it."""
    build(fresh_settings)
    return fresh_settings


# ---------------------------------------------------------------------------------------
# read_manifest / load_index: what counts as an index
# ---------------------------------------------------------------------------------------


def test_no_folder_or_an_empty_folder_means_no_index_yet(tmp_path):
    assert read_manifest(tmp_path / "missing") is None
    assert read_manifest(tmp_path) is None


def test_a_checkout_placeholder_folder_is_not_foreign(tmp_path):
    for name in (".gitkeep", ".gitignore", "README.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert read_manifest(tmp_path) is None


def test_a_foreign_folder_is_refused_by_name(tmp_path):
    (tmp_path / "thesis.docx").write_bytes(b"mine")
    with pytest.raises(IndexStoreError, match="not an assistant index"):
        read_manifest(tmp_path)
    with pytest.raises(IndexStoreError, match="not an assistant index"):
        load_index(tmp_path)


@pytest.mark.parametrize("content", [b"garbage{", b"[1, 2]", b'{"encoder": "use-m3"}', b"null", b"\xff\xfe\x00"])
def test_a_corrupt_manifest_is_a_one_line_store_error(tmp_path, content):
    (tmp_path / MANIFEST_NAME).write_bytes(content)
    with pytest.raises(IndexStoreError, match="corrupt") as info:
        read_manifest(tmp_path)
    assert "\n" not in str(info.value) and "assistant ingest" in str(info.value)


def test_another_format_version_is_refused(built):
    edit_manifest(built.index_dir, format_version=FORMAT_VERSION + 1)
    with pytest.raises(IndexStoreError, match=f"format {FORMAT_VERSION + 1}"):
        load_index(built.index_dir)


def test_an_index_of_an_older_format_is_rebuilt_on_first_use_reusing_its_vectors(built):
    from assistant.pipeline import ensure_index

    edit_manifest(built.index_dir, format_version=FORMAT_VERSION - 1)
    report = ensure_index(built)
    assert report is not None and report.changed
    assert report.embedded == 0 and report.reused > 0  # nothing re-embedded
    assert read_manifest(built.index_dir).format_version == FORMAT_VERSION
    assert Assistant(built).ask(QUESTION).citations


def test_load_index_without_an_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexStoreError, match="no index at .*assistant ingest"):
        load_index(tmp_path / "index")


def test_a_missing_data_file_is_reported_as_damaged(built):
    data = built.index_dir / read_manifest(built.index_dir).data_dir
    (data / "dense.faiss").unlink()
    with pytest.raises(IndexStoreError, match="damaged"):
        load_index(built.index_dir)


@pytest.mark.parametrize("file, says", [
    ("units.jsonl", "inconsistent"),  # fewer units than vectors
    ("articles.jsonl", "damaged|inconsistent"),  # fewer article lines than tables.npz lists
])
def test_parts_that_disagree_are_reported_as_inconsistent(built, file, says):
    data = built.index_dir / read_manifest(built.index_dir).data_dir
    lines = (data / file).read_text(encoding="utf-8").splitlines(keepends=True)
    (data / file).write_text("".join(lines[:-1]), encoding="utf-8")
    with pytest.raises(IndexStoreError, match=says):
        load_index(built.index_dir)


def test_sentences_without_their_vectors_are_reported_as_inconsistent(built):
    # Each stored sentence of a chunk must have its vector: a chunk claiming one sentence
    # more than it has vectors for would hand the answerer another sentence's vector.
    data = built.index_dir / read_manifest(built.index_dir).data_dir
    chunks = [json.loads(line) for line in (data / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    chunks[0]["sentences"].append(dict(chunks[0]["sentences"][-1]))
    (data / "chunks.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in chunks), encoding="utf-8")
    index = load_index(built.index_dir)  # opening reads no chunk; reading that one is refused
    assert len(index.chunk_sentences(1)) == len(chunks[1]["sentences"])
    with pytest.raises(IndexStoreError, match="inconsistent.*chunk row 0 has"):
        index.chunk_sentences(0)


def test_a_line_changed_in_place_is_reported_when_read(built):
    data = built.index_dir / read_manifest(built.index_dir).data_dir
    raw = (data / "chunks.jsonl").read_bytes()
    first = raw.index(b"\n")
    (data / "chunks.jsonl").write_bytes(b"{" * first + raw[first:])  # same size, first line garbled
    index = load_index(built.index_dir)
    assert index.chunk(1).chunk_id
    with pytest.raises(IndexStoreError, match="line 1 of chunks.jsonl cannot be read"):
        index.chunk(0)


def test_tables_that_disagree_with_each_other_are_reported_as_damaged(built):
    data = built.index_dir / read_manifest(built.index_dir).data_dir
    with np.load(data / "tables.npz", allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["chunk_sentences"] = arrays["chunk_sentences"][:-1]
    with (data / "tables.npz").open("wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(IndexStoreError, match="damaged|inconsistent"):
        load_index(built.index_dir)


def test_a_data_folder_without_tables_opens_the_same(built):
    """Folders written before tables.npz existed get the tables from their lines."""
    before = load_index(built.index_dir)
    data = built.index_dir / read_manifest(built.index_dir).data_dir
    (data / "tables.npz").unlink()
    after = load_index(built.index_dir)
    assert after.article_ids() == before.article_ids() and after.chunk_counts() == before.chunk_counts()
    assert list(after.chunks) == list(before.chunks)
    assert (after.unit_chunk_rows == before.unit_chunk_rows).all()
    assert all(after.chunk_row(c.chunk_id) == before.chunk_row(c.chunk_id) for c in before.chunks)
    assert after.chunk_doc_ids(range(after.chunk_count)) == [c.doc_id for c in before.chunks]


def test_the_index_stores_sentences_and_match_forms(tiny_assistant):
    from assistant.text import match_form

    index = tiny_assistant.index
    for doc_id, article in index.articles.items():
        assert index.match_text(doc_id).text == match_form(article.text)
    for row, chunk in enumerate(index.chunks):
        sentences = index.chunk_sentences(row)
        assert [(s.start, s.end) for s in sentences] == [(s.start, s.end) for s in chunk.sentences]
        vectors = index.sentence_vectors([s.vector_row for s in sentences])
        assert vectors.shape == (len(sentences), index.dense.dim)
    assert index.mentions("遂宁") and not index.mentions("广东")
    assert index.chunk_row("not a chunk id") is None


def test_adjacent_chunks_are_the_articles_previous_and_next(small_passages):
    index = small_passages.index
    by_article: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.chunks):
        by_article.setdefault(chunk.doc_id, []).append(row)
    assert any(len(rows) > 1 for rows in by_article.values())
    for rows in by_article.values():
        ordered = sorted(rows, key=lambda r: index.chunk(r).ordinal)
        for i, row in enumerate(ordered):
            assert index.adjacent_chunk(row, -1) == (ordered[i - 1] if i > 0 else None)
            assert index.adjacent_chunk(row, 1) == (ordered[i + 1] if i + 1 < len(ordered) else None)


# ---------------------------------------------------------------------------------------
# A loaded index holds together
# ---------------------------------------------------------------------------------------


def test_the_tokens_holding_a_character_are_those_of_the_vocabulary(tiny_assistant):
    index = tiny_assistant.index
    vocabulary = index.terms.vocabulary()
    for char in ("遂", "联", "𠀀"):
        assert sorted(index.tokens_with(char)) == sorted(t for t in vocabulary if char in t)
    assert "遂宁" in index.tokens_with("遂")


def test_loaded_index_offsets_and_rows_agree(tiny_assistant):
    index = tiny_assistant.index
    doc_ids = list(index.articles)
    for row, chunk in enumerate(index.chunks):
        assert index.articles[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
        assert doc_ids[index.chunk_article_rows[row]] == chunk.doc_id
    data = index.path / index.manifest.data_dir
    units = [json.loads(line) for line in (data / "units.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(units) == len(index.units)
    for i, unit in enumerate(units):
        chunk = index.chunks[unit["chunk_row"]]
        assert chunk.start <= unit["start"] < unit["end"] <= chunk.end
        assert index.unit_chunk_rows[i] == unit["chunk_row"]
        assert index.unit_is_sentence[i] == (unit["kind"] == "sentence")
    assert (index.dense.size, index.lexical.size, index.article_lexical.size) == (
        len(index.units), len(index.chunks), len(index.articles))


def test_index_files_are_open_formats_without_pickle(tiny_assistant):
    data = tiny_assistant.index.path / tiny_assistant.index.manifest.data_dir
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".jsonl", ".json", ".npy", ".npz", ".faiss"}, sorted(p.name for p in files)
    for path in files:
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                assert all(arrays[name].dtype != object for name in arrays.files)
        elif path.suffix == ".jsonl":
            assert all(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    assert (data / "dense.faiss").read_bytes()[:4] == b"IxFI"


# ---------------------------------------------------------------------------------------
# Atomic replacement
# ---------------------------------------------------------------------------------------


def _explode(*args, **kwargs):
    raise OSError("disk full (injected)")


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "target, failure",
    [(LexicalIndex, _explode), (DenseIndex, _explode), (LexicalIndex, _interrupt)],
    ids=["lexical-save-fails", "dense-save-fails", "ctrl-c-while-saving"],
)
def test_a_build_that_dies_midway_leaves_the_previous_index_working(built, monkeypatch, target, failure):
    before = snapshot(built.index_dir)
    monkeypatch.setattr(target, "save", failure)
    with pytest.raises((OSError, KeyboardInterrupt)):
        build(built, force=True)
    monkeypatch.undo()

    assert snapshot(built.index_dir) == before  # no half-written generation left behind
    assert data_dirs(built.index_dir) == [read_manifest(built.index_dir).data_dir]
    answer = Assistant(built).ask(QUESTION)
    assert not answer.refused and "17.73" in answer.text


def test_leftovers_of_a_killed_build_are_ignored_then_cleaned_up(built):
    current = read_manifest(built.index_dir).data_dir
    stray = built.index_dir / "data-0123456789ab"
    stray.mkdir()
    (stray / "chunks.jsonl").write_text("half written", encoding="utf-8")
    tmp_manifest = built.index_dir / f".{MANIFEST_NAME}.deadbeef.tmp"
    tmp_manifest.write_text("{", encoding="utf-8")

    assert load_index(built.index_dir).manifest.data_dir == current
    build(built, force=True)
    assert data_dirs(built.index_dir) == [read_manifest(built.index_dir).data_dir]
    assert not tmp_manifest.exists()


def test_a_successful_rebuild_switches_generation_and_drops_the_old_one(built):
    old = read_manifest(built.index_dir).data_dir
    build(built, force=True)
    new = read_manifest(built.index_dir).data_dir
    assert new != old and data_dirs(built.index_dir) == [new]


def test_a_first_build_killed_before_the_manifest_switch_can_be_retried(fresh_settings):
    # What a kill -9 between tmp.write_text() and os.replace() in write_index leaves on disk.
    index_dir = fresh_settings.index_dir
    (index_dir / "data-0123456789ab").mkdir(parents=True)
    (index_dir / f".{MANIFEST_NAME}.deadbeef.tmp").write_text("{}", encoding="utf-8")
    build(fresh_settings)
    assert load_index(index_dir).manifest.counts["articles"] == 3


def test_writing_refuses_a_foreign_folder_and_leaves_it_alone(fresh_settings):
    folder = fresh_settings.index_dir
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="not an assistant index"):
        build(fresh_settings)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "my notes"
