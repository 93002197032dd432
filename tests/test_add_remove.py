"""`assistant add` and `assistant remove`: a collection that changes in place, through the real CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from assistant.index.store import MANIFEST_NAME, load_index
from tests.conftest import NEW_ARTICLE
from tests.test_cli import ZH_QUESTION, assert_user_error, invoke, snapshot


@pytest.fixture()
def collection(tmp_path, tiny_corpus) -> dict[str, Path]:
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "d_lanzhou.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    index_dir = tmp_path / "index"
    built = invoke(["ingest", "-q", str(corpus)], index_dir, corpus)
    assert built.exit_code == 0, built.output
    return {"corpus": corpus, "extra": extra, "index_dir": index_dir}


def _articles(index_dir: Path) -> list[str]:
    return sorted(load_index(index_dir).articles)


def _cited_docs(result) -> set[str]:
    assert result.exit_code == 0, result.output
    return {c["doc_id"] for c in json.loads(result.stdout)["citations"]}


def test_add_embeds_only_the_new_article_and_keeps_the_rest(collection):
    c = collection
    added = invoke(["add", "-q", str(c["extra"] / "d_lanzhou.txt")], c["index_dir"], c["corpus"])
    assert added.exit_code == 0, added.output
    embedded, reused = map(int, re.search(r"(\d+) embedded, (\d+) reused", added.stdout).groups())
    assert _articles(c["index_dir"]) == ["a_suining", "b_mongolia", "c_gansu", "d_lanzhou"]
    assert reused > 0 and embedded <= 4  # the new article's chunk and sentences only
    answer = invoke(["ask", "--json", "兰州新区科技成果转化基金规模是多少？"], c["index_dir"], c["corpus"])
    assert _cited_docs(answer) == {"d_lanzhou"}
    # A plain ingest now syncs with both sources.
    again = invoke(["ingest", "-q"], c["index_dir"], c["corpus"])
    assert again.exit_code == 0 and "is up to date (4 articles" in again.stdout


def test_a_removed_article_never_comes_back(collection):
    c = collection
    assert "a_suining" in _cited_docs(invoke(["ask", "--json", ZH_QUESTION], c["index_dir"], c["corpus"]))
    removed = invoke(["remove", "-q", "a_suining"], c["index_dir"], c["corpus"])
    assert removed.exit_code == 0, removed.output
    assert _articles(c["index_dir"]) == ["b_mongolia", "c_gansu"]
    assert "a_suining" not in _cited_docs(invoke(["ask", "--json", ZH_QUESTION], c["index_dir"], c["corpus"]))
    # Still out after a sync, and after `ask` refreshes the index because another article changed.
    synced = invoke(["ingest", "-q", "--force"], c["index_dir"], c["corpus"])
    assert synced.exit_code == 0, synced.output
    gansu = c["corpus"] / "c_gansu.txt"
    gansu.write_text(gansu.read_text(encoding="utf-8").replace("5家", "6家"), encoding="utf-8")
    assert "a_suining" not in _cited_docs(invoke(["ask", "--json", ZH_QUESTION], c["index_dir"], c["corpus"]))
    assert _articles(c["index_dir"]) == ["b_mongolia", "c_gansu"]
    assert "6家" in load_index(c["index_dir"]).articles["c_gansu"].text
    # Adding the file back undoes the removal.
    back = invoke(["add", "-q", str(c["corpus"] / "a_suining.txt")], c["index_dir"], c["corpus"])
    assert back.exit_code == 0, back.output
    assert _articles(c["index_dir"]) == ["a_suining", "b_mongolia", "c_gansu"]


def test_remove_a_whole_source_folder_and_by_file_path(collection):
    c = collection
    assert invoke(["add", "-q", str(c["extra"])], c["index_dir"], c["corpus"]).exit_code == 0
    by_path = invoke(["remove", "-q", str(c["corpus"] / "b_mongolia.txt")], c["index_dir"], c["corpus"])
    assert by_path.exit_code == 0, by_path.output
    assert _articles(c["index_dir"]) == ["a_suining", "c_gansu", "d_lanzhou"]
    folder = invoke(["remove", "-q", str(c["corpus"])], c["index_dir"], c["corpus"])
    assert folder.exit_code == 0, folder.output
    assert _articles(c["index_dir"]) == ["d_lanzhou"]
    manifest = json.loads((c["index_dir"] / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["sources"] == [str(c["extra"].resolve())]


def test_removing_something_the_index_does_not_hold_changes_nothing(collection):
    c = collection
    before = snapshot(c["index_dir"])
    assert_user_error(invoke(["remove", "-q", "no_such_article"], c["index_dir"], c["corpus"]), "no_such_article")
    assert snapshot(c["index_dir"]) == before


def test_removing_every_article_is_refused(collection):
    c = collection
    before = snapshot(c["index_dir"])
    assert_user_error(invoke(["remove", "-q", str(c["corpus"])], c["index_dir"], c["corpus"]), "no source files left")
    assert snapshot(c["index_dir"]) == before
