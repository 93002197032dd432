"""Build (or incrementally refresh) an index: ingest -> chunk -> embed -> write."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from assistant.chunk import chunk_article
from assistant.config import Settings
from assistant.index.dense import DenseIndex
from assistant.embed import Embedder, encoder_name, load_embedder
from assistant.ingest import IngestError, find_source_files, read_article
from assistant.index.lexical import LexicalIndex
from assistant.index.store import (
    FORMAT_VERSION,
    DamagedIndexError,
    FaissParts,
    IndexStoreError,
    Manifest,
    MatchText,
    Unit,
    drop_partial_vectors,
    is_complete,
    partial_vectors,
    read_manifest,
    save_partial_vectors,
    stored_vectors,
    write_index,
    writer_lock,
)
from assistant.text import match_form, to_simplified, tokenize_zh
from assistant.types import Article, Chunk

# Bump when cleaning, chunking or tokenisation changes what an index holds.
PIPELINE_VERSION = "7"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class BuildReport:
    index_dir: Path
    articles: int
    chunks: int
    units: int
    embedded: int  # distinct texts embedded in this build
    reused: int  # distinct texts whose vector was taken over from the previous index
    seconds: float
    changed: bool  # False when the index was already up to date
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason) of source files that could not be ingested
    warnings: tuple[tuple[str, str], ...] = ()  # (file, what) of files ingested with a doubt, e.g. most text dropped


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_fingerprint(documents: dict[str, str], settings: Settings) -> str:
    """Changes whenever a source file, the chunker settings or the pipeline version change."""
    h = hashlib.sha256(f"{PIPELINE_VERSION}|{settings.chunk_tokens}|{settings.overlap_tokens}".encode())
    for doc_id in sorted(documents):
        h.update(f"|{doc_id}:{documents[doc_id]}".encode())
    return h.hexdigest()[:24]


def source_documents(sources: Sequence[Path], exclude: Sequence[Path] = ()) -> dict[Path, str]:
    """Every source file (folders expanded) except the ``exclude``d ones, with its content digest."""
    excluded = {Path(p).resolve() for p in exclude}
    return {path: file_digest(path) for path in find_source_files(sources) if path.resolve() not in excluded}


def check_encoder(manifest: Manifest, embedder_name: str, index_dir: Path) -> None:
    if manifest.encoder != embedder_name:
        raise IndexStoreError(
            f"index at {index_dir} was built with encoder '{manifest.encoder}' but '{embedder_name}' is configured; "
            f"set ASSISTANT_ENCODER={manifest.encoder} (or --encoder) or rebuild with `assistant ingest --index {index_dir}`"
        )


def is_up_to_date(index_dir: Path, sources: Sequence[Path], settings: Settings, exclude: Sequence[Path] = ()) -> bool:
    manifest = read_manifest(index_dir)
    if manifest is None or not is_complete(index_dir, manifest):
        return False
    digests = {path.stem: digest for path, digest in source_documents(sources, exclude).items()}
    return manifest.corpus_fingerprint == corpus_fingerprint(digests, settings) and _same_build(manifest, settings)


def cross_lingual_name(settings: Settings) -> str | None:
    """The cross-lingual encoder an index built with ``settings`` holds (its manifest name), or None:
    none configured, or the same as the main encoder."""
    spec = settings.cross_lingual_encoder.strip()
    if not spec or spec.lower() == "none":
        return None
    name = encoder_name(spec)
    return None if name == encoder_name(settings.encoder) else name


def _same_build(manifest: Manifest, settings: Settings) -> bool:
    """An index built into another store (FAISS files or Milvus), or with another cross-lingual
    encoder (or none), is rebuilt as configured (reusing every vector it has)."""
    return (manifest.extra.get("store", "faiss") == settings.store
            and manifest.extra.get("cross_lingual_encoder") == cross_lingual_name(settings))


def dense_units(chunks: Sequence[Chunk], articles: dict[str, Article]) -> tuple[list[Unit], list[str]]:
    """What the encoder sees: each chunk with its title (region/topic context) and each sentence alone.

    Sentence-level vectors match a question's single fact better than a whole-chunk vector;
    the title-prefixed chunk vector carries the article's context (e.g. which province).
    Text is embedded in Simplified script, so a Traditional copy of an article gets the same
    vectors as the Simplified one (and reuses them: the key is the hash of what is embedded).
    """
    units: list[Unit] = []
    texts: list[str] = []
    for row, chunk in enumerate(chunks):
        article_text = articles[chunk.doc_id].text
        whole = to_simplified(f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text)
        units.append(Unit(row, chunk.start, chunk.end, _key(whole), kind="chunk"))
        texts.append(whole)
        for sentence in chunk.sentences:
            embedded = to_simplified(article_text[sentence.start:sentence.end])
            units.append(Unit(row, sentence.start, sentence.end, _key(embedded)))
            texts.append(embedded)
    return units, texts


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def lexical_document(chunk: Chunk) -> list[str]:
    # The title travels with every chunk so that article-level context (region, topic) matches.
    return tokenize_zh(f"{chunk.title}\n{chunk.text}")


# Embedded vectors are saved after every this many texts, so a killed build loses at most these.
CHECKPOINT_TEXTS = 128


def _embed_missing(
    embedder: Embedder, texts: list[str], keys: list[str], cache: dict[str, np.ndarray], progress: Progress | None,
    checkpoint: Callable[[list[str], np.ndarray], None] | None = None, stage: str = "embed",
) -> tuple[np.ndarray, int]:
    missing = {}
    for key, text in zip(keys, texts):
        if key not in cache and key not in missing:
            missing[key] = text
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(stage, done, len(missing))

    cache = dict(cache)
    pending = list(missing.items())
    for start in range(0, len(pending), CHECKPOINT_TEXTS):
        part = pending[start:start + CHECKPOINT_TEXTS]
        vectors = embedder.embed_passages([text for _, text in part], progress=tick)
        cache.update(zip((key for key, _ in part), vectors))
        if checkpoint:
            checkpoint([key for key, _ in part], vectors)
    matrix = np.stack([cache[key] for key in keys]) if keys else np.zeros((0, embedder.dim), dtype=np.float32)
    return matrix.astype(np.float32, copy=False), len(missing)


def build_index(
    sources: Sequence[Path],
    index_dir: Path,
    settings: Settings,
    progress: Progress | None = None,
    force: bool = False,
    reuse_from: Sequence[Path] = (),
    *,
    reembed: bool = False,
    strict: bool = False,
    exclude: Sequence[Path] = (),
    wait: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> BuildReport:
    """Ingest ``sources`` into ``index_dir``; re-embeds only text whose vector is not already stored
    (there, or in an index of ``reuse_from``).

    A file that cannot be ingested is skipped and reported (``strict``: the build fails instead,
    leaving the index as it was). An index built with another encoder is only replaced when
    ``reembed`` says so. Files in ``exclude`` (removed by the user) stay out even when they
    lie inside a source folder. One writer at a time: see :func:`assistant.index.store.writer_lock`.
    """
    started = time.perf_counter()
    digests = source_documents(sources, exclude)  # missing or unsupported paths fail before any model loads
    if not digests:
        raise IndexStoreError("no source files left to index; add some, or delete the index folder to start afresh")
    embedder = load_embedder(settings.encoder, threads=settings.encoder_threads, passage_threads=settings.ingest_threads,
                             passage_engine=settings.passage_engine)
    by_doc = {path.stem: digest for path, digest in digests.items()}
    fingerprint = corpus_fingerprint(by_doc, settings)
    with writer_lock(index_dir, wait=wait, on_wait=on_wait):
        try:
            current = read_manifest(index_dir)
        except DamagedIndexError:
            current = None  # ours but unreadable: rebuild
        if current and current.encoder != embedder.name and not reembed:
            raise IndexStoreError(
                f"the index at {index_dir} holds '{current.encoder}' vectors and this ingest uses '{embedder.name}'; "
                f"pass --encoder {current.encoder} to keep them, or --reembed to re-embed every passage with "
                f"'{embedder.name}' (or choose another --index)"
            )
        up_to_date = (current and current.corpus_fingerprint == fingerprint and current.encoder == embedder.name
                      and _same_build(current, settings))
        if not force and up_to_date and is_complete(index_dir, current):
            c = current.counts
            skipped = tuple((str(f), str(r)) for f, r in current.extra.get("skipped", []))
            return BuildReport(index_dir, c["articles"], c["chunks"], c["units"], 0, c["units"], 0.0, changed=False,
                               skipped=skipped)
        articles, skipped, warnings = _load_sources(list(digests), strict, settings.warn_kept_share, progress)
        if not articles:
            raise IndexStoreError(
                f"none of the {len(digests)} source files could be ingested (first: {skipped[0][0]}: {skipped[0][1]}); "
                "the index is unchanged"
            )
        report = index_articles(articles, index_dir, settings, {a.doc_id: by_doc[a.doc_id] for a in articles},
                                fingerprint, [str(Path(s).resolve()) for s in sources], progress, reuse_from,
                                skipped=skipped, excluded=sorted(str(Path(p).resolve()) for p in exclude))
    return replace(report, seconds=time.perf_counter() - started, warnings=warnings)


def _load_sources(files: list[Path], strict: bool, warn_kept_share: float,
                  progress: Progress | None) -> tuple[list[Article], tuple, tuple]:
    """Load every file; one that fails costs only itself (unless ``strict``) and is listed with its reason.

    A file whose cleaned article keeps less than ``warn_kept_share`` of its page text is
    ingested, with a warning: it may hold several pages, or a page the cleaner misreads.
    """
    articles: list[Article] = []
    skipped: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    for i, path in enumerate(files):
        try:
            loaded = read_article(path)
            articles.append(loaded.article)
            if loaded.kept_share < warn_kept_share:
                warnings.append((str(path), f"kept {loaded.kept_chars:,} of its {loaded.page_chars:,} characters of text "
                                            f"({loaded.kept_share:.0%}) as the article; check that it holds one article"))
        except Exception as exc:  # a decoder or extractor bug in one page must not stop the rest
            if strict:
                raise
            reason = str(exc).removeprefix(f"{path}: ") if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
            skipped.append((str(path), reason))
        if progress:
            progress("read", i + 1, len(files))
    return articles, tuple(skipped), tuple(warnings)


def index_articles(
    articles: Sequence[Article],
    index_dir: Path,
    settings: Settings,
    documents: dict[str, str],
    fingerprint: str,
    sources: list[str],
    progress: Progress | None = None,
    reuse_from: Sequence[Path] = (),
    skipped: tuple[tuple[str, str], ...] = (),
    excluded: Sequence[str] = (),
) -> BuildReport:
    """Chunk, embed (reusing stored vectors) and write already-loaded articles as a new index generation.

    Vectors are reused from the index being replaced and from any index in ``reuse_from``
    built with the same encoder (a benchmark's Traditional copy reuses the Simplified one's).
    ``skipped`` (files that could not be loaded) and ``excluded`` (files the user removed) are
    recorded in the manifest.
    """
    # The lock also refuses a foreign folder before any embedding work; re-entrant: build_index holds it.
    with writer_lock(index_dir):
        started = time.perf_counter()
        embedder = load_embedder(settings.encoder, threads=settings.encoder_threads, passage_threads=settings.ingest_threads,
                             passage_engine=settings.passage_engine)
        _check_unique_ids(articles)
        by_id = {a.doc_id: a for a in articles}
        chunks = [c for a in articles for c in chunk_article(a, settings.chunk_tokens, settings.overlap_tokens)]
        units, texts = dense_units(chunks, by_id)
        keys = [u.key for u in units]
        cache = _reusable_vectors(index_dir, reuse_from, embedder.name)
        vectors, embedded = _embed_missing(
            embedder, texts, keys, cache, progress,
            checkpoint=lambda done_keys, done_vectors: save_partial_vectors(index_dir, embedder.name, done_keys,
                                                                            done_vectors))
        cross_lingual_vectors = None
        cross = load_embedder(settings.cross_lingual_encoder, threads=settings.encoder_threads) \
            if cross_lingual_name(settings) else None
        if cross is not None:
            cross_lingual_vectors, _ = _embed_missing(
                cross, texts, keys, _reusable_vectors(index_dir, reuse_from, cross.name), progress,
                checkpoint=lambda done_keys, done_vectors: save_partial_vectors(index_dir, cross.name, done_keys,
                                                                                done_vectors),
                stage="embed_cross_lingual")
        chunk_tokens = [lexical_document(c) for c in chunks]
        article_tokens = [tokenize_zh(f"{a.title}\n{a.text}") for a in articles]
        lexical = LexicalIndex.build(chunk_tokens)
        article_lexical = LexicalIndex.build(article_tokens)
        manifest = Manifest(
            encoder=embedder.name,
            dim=embedder.dim,
            chunker={"max_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens, "tokenizer": "cl100k_base"},
            lexical={"tokenizer": "jieba", "method": "lucene"},
            corpus_fingerprint=fingerprint,
            sources=sources,
            documents=documents,
            counts={"articles": len(articles), "chunks": len(chunks), "units": len(units)},
            data_dir="",
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            format_version=FORMAT_VERSION,
            extra={"pipeline_version": PIPELINE_VERSION, "skipped": [list(s) for s in skipped],
                   "excluded": list(excluded)},
        )
        if cross is not None:
            manifest.extra["cross_lingual_encoder"] = cross.name
        match_texts = {a.doc_id: MatchText(match_form(a.title), match_form(a.text)) for a in articles}
        if settings.store == "milvus":
            from assistant.index.milvus import MilvusParts

            manifest.extra["store"] = "milvus"
            search = MilvusParts.for_build(index_dir, settings, articles, chunks, units, vectors, chunk_tokens,
                                           article_tokens, lexical, cross_lingual_vectors)
        else:
            def dense_index(matrix: np.ndarray) -> DenseIndex:
                return DenseIndex.build(matrix, exact_below=settings.dense_exact_below,
                                        approximate=settings.dense_approximate, nprobe=settings.dense_nprobe)

            search = FaissParts(dense_index(vectors), lexical, article_lexical,
                                None if cross_lingual_vectors is None else dense_index(cross_lingual_vectors))
        write_index(index_dir, manifest, list(articles), chunks, units, match_texts, search)
        drop_partial_vectors(index_dir)  # all in the new generation now
        reused = sum(1 for key in set(keys) if key in cache)
        return BuildReport(index_dir, len(articles), len(chunks), len(units), embedded, reused,
                           time.perf_counter() - started, True, skipped)


def _reusable_vectors(index_dir: Path, reuse_from: Sequence[Path], encoder: str) -> dict[str, np.ndarray]:
    """Vectors of ``encoder`` already embedded: stored in the index being replaced or in
    ``reuse_from``, or left by a build that was killed."""
    cache: dict[str, np.ndarray] = {}
    for folder in (*reuse_from, index_dir):
        cache.update(stored_vectors(Path(folder), encoder))
    cache.update(partial_vectors(index_dir, encoder))
    return cache


def _check_unique_ids(articles: Sequence[Article]) -> None:
    seen: dict[str, str | None] = {}
    for a in articles:
        if a.doc_id in seen:
            raise IndexStoreError(f"two sources share the document id '{a.doc_id}': {seen[a.doc_id]} and {a.path}; rename one")
        seen[a.doc_id] = a.path
