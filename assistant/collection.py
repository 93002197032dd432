"""The collection an index holds, changed in place: what it holds, adding and removing articles,
and storing an uploaded file under the corpus folder.

The CLI (`assistant add`, `remove`, `ingest`) and the chat's collection panel both call these, so
an article added from either is found by the other, and both leave the index as it was when a
build fails (the build itself only switches to a new generation once it is complete).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from assistant.config import Settings
from assistant.indexer import BuildReport, Progress, build_index, source_documents
from assistant.ingest import SUPPORTED_SUFFIXES
from assistant.index import Index
from assistant.index.store import MANIFEST_NAME, recorded_exclusions, recorded_sources

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm")
_UNSAFE = re.compile(r"[^\w.\-]+")  # \w is Unicode-aware: Chinese file names stay readable


class CollectionError(ValueError):
    """The user asked for something the collection cannot do; the message says what to do instead."""


@dataclass(frozen=True)
class ArticleEntry:
    """One indexed article as the collection panel lists it."""

    doc_id: str
    title: str
    source: str | None
    date: str | None
    chunks: int
    path: str | None


def list_articles(index: Index) -> list[ArticleEntry]:
    """Every article of ``index``, newest first (undated last), with its chunk count."""
    counts = index.chunk_counts()
    entries = [ArticleEntry(a.doc_id, a.title, a.source, a.date, counts.get(a.doc_id, 0), a.path)
               for a in map(index.article, index.article_ids())]
    entries.sort(key=lambda e: e.doc_id)
    entries.sort(key=lambda e: e.date or "", reverse=True)
    return entries


def has_index(settings: Settings) -> bool:
    return (settings.index_dir / MANIFEST_NAME).is_file()


def existing_sources(settings: Settings) -> list[Path]:
    """The sources the index was built from; a source that moved away is an error, never silently dropped."""
    sources = recorded_sources(settings.index_dir)
    missing = [s for s in sources if not s.exists()]
    if missing:
        raise CollectionError(
            f"the index at {settings.index_dir} was built from {missing[0]}, which no longer exists; "
            f"name the sources to keep: assistant ingest PATHS... --index {settings.index_dir}"
        )
    return sources


def sync_sources(settings: Settings) -> tuple[list[Path], list[Path]]:
    """What a plain `assistant ingest` syncs with: (sources, excluded files); corpus/ for a new index."""
    if recorded_sources(settings.index_dir):
        return existing_sources(settings), recorded_exclusions(settings.index_dir)
    if has_index(settings):
        raise CollectionError(
            f"the manifest of the index at {settings.index_dir} is unreadable, so its sources are unknown; "
            f"name them: assistant ingest PATHS... --index {settings.index_dir}"
        )
    return [settings.corpus_dir], []


def _covers(source: Path, path: Path) -> bool:
    return source == path or source in path.parents


def add(settings: Settings, paths: Sequence[Path], progress: Progress | None = None, *, strict: bool = False,
        wait: bool = True, on_wait: Callable[[], None] | None = None) -> BuildReport:
    """Add files or folders to the index, keeping what it holds; only new text is embedded.

    Adding a file (or folder) back undoes an earlier :func:`remove` of what it holds.
    """
    sources = existing_sources(settings) if has_index(settings) else []
    resolved = [s.resolve() for s in sources]
    added = [Path(p).resolve() for p in paths]
    sources += [p for p, r in zip(paths, added) if not any(_covers(s, r) for s in resolved)]
    exclude = [e for e in recorded_exclusions(settings.index_dir) if not any(_covers(a, e) for a in added)]
    return build_index(sources, settings.index_dir, settings, progress, strict=strict, exclude=exclude,
                       wait=wait, on_wait=on_wait)


def remove(settings: Settings, items: Sequence[str], progress: Progress | None = None, *, ids_only: bool = False,
           wait: bool = True, on_wait: Callable[[], None] | None = None) -> BuildReport:
    """Take articles out of the index by document id, file or folder; they stay out when it is synced again.

    A whole source is forgotten; a file inside a source folder is recorded as excluded.
    ``ids_only``: the items are document ids, never paths (the chat: an upload named
    ``corpus.txt`` must not match the ``corpus`` folder).
    """
    if not has_index(settings):
        raise CollectionError(f"no index at {settings.index_dir}; there is nothing to remove")
    sources = existing_sources(settings)
    exclude = recorded_exclusions(settings.index_dir)
    files = [p.resolve() for p in source_documents(sources, exclude)]
    for item in items:
        target = Path(item).resolve()
        by_id = [f for f in files if f.stem == item]
        if ids_only:
            if not by_id:
                raise CollectionError(f"'{item}' is not a document of the index at {settings.index_dir}; nothing was removed")
            exclude += by_id
        elif target in {s.resolve() for s in sources}:
            sources = [s for s in sources if s.resolve() != target]
        elif by_id or target in files or any(target in f.parents for f in files):
            exclude += by_id or [f for f in files if f == target or target in f.parents]
        else:
            raise CollectionError(f"'{item}' is neither a document id nor a file or folder of the index at "
                                  f"{settings.index_dir}; nothing was removed")
    return build_index(sources, settings.index_dir, settings, progress, exclude=exclude, wait=wait, on_wait=on_wait)


def safe_file_name(name: str, taken: set[str]) -> str:
    """A file name for an upload that cannot leave its folder and whose stem (the document id)
    is not in ``taken``: the base name only, NFKC-normalised, unsafe characters as ``_``."""
    base = unicodedata.normalize("NFKC", name.replace("\\", "/").rsplit("/", 1)[-1])
    path = Path(base)
    suffix = path.suffix.lower()
    stem = _UNSAFE.sub("_", path.stem).strip("._-")[:80] or "upload"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate + suffix


def check_upload(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse what the collection does not take: other types, empty or oversized files, binary data."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise CollectionError(f"{name}: only {', '.join(UPLOAD_SUFFIXES)} files can be added (got '{suffix or 'no extension'}')")
    if not data.strip():
        raise CollectionError(f"{name}: the file is empty")
    if len(data) > max_bytes:
        raise CollectionError(f"{name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB upload limit")
    if b"\x00" in data[:8192]:
        raise CollectionError(f"{name}: this is not a text, Markdown or HTML file")


def store_uploads(folder: Path, files: Sequence[tuple[str, bytes]], taken: set[str], max_bytes: int) -> list[Path]:
    """Check every upload first, then write each under ``folder`` with a safe, unused name.

    Nothing is written when any upload is refused. ``taken``: document ids already in the index.
    """
    for name, data in files:
        check_upload(name, data, max_bytes)
    folder.mkdir(parents=True, exist_ok=True)
    taken = set(taken) | {p.stem for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES}
    stored = []
    for name, data in files:
        path = folder / safe_file_name(name, taken)
        taken.add(path.stem)
        path.write_bytes(data)
        stored.append(path)
    return stored


def add_uploads(settings: Settings, files: Sequence[tuple[str, bytes]], taken: set[str],
                progress: Progress | None = None) -> tuple[list[Path], BuildReport]:
    """Store uploaded files under the upload folder and index them; any failure removes the stored
    files again and leaves the index as it was (the build is strict: no file is silently skipped)."""
    stored = store_uploads(settings.upload_folder, files, taken, settings.upload_max_bytes)
    try:
        report = add(settings, stored, progress, strict=True)
    except BaseException:
        for path in stored:
            path.unlink(missing_ok=True)
        raise
    return stored, report
