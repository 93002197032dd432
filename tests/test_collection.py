"""The collection panel's operations: safe upload names and checks, adding uploads (or failing
without a trace), removing, and the chat answering from the changed collection at once."""

from __future__ import annotations

import pytest

from assistant.collection import CollectionError, add_uploads, check_upload, list_articles, safe_file_name, store_uploads
from assistant.index.store import MANIFEST_NAME
from tests.conftest import NEW_ARTICLE
from tests.test_cli import snapshot

UPLOADED = NEW_ARTICLE.encode()
QUESTION = "兰州新区科技成果转化基金规模多大？"


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.html", "evil.html"),
    ("/abs/path/新闻 稿(1).md", "新闻_稿_1.md"),
    (".hidden.txt", "hidden.txt"),
    ("...txt", "upload.txt"),
    ("ＦＵＬＬ.TXT", "FULL.txt"),
])
def test_upload_names_cannot_leave_their_folder(name, expected):
    assert safe_file_name(name, set()) == expected


def test_upload_names_never_reuse_a_document_id():
    assert safe_file_name("a_suining.txt", {"a_suining"}) == "a_suining-2.txt"
    assert safe_file_name("a_suining.txt", {"a_suining", "a_suining-2"}) == "a_suining-3.txt"


@pytest.mark.parametrize("name, data, says", [
    ("x.pdf", b"%PDF-1.4", "only .txt"),
    ("x", b"text", "no extension"),
    ("x.txt", b"  \n", "empty"),
    ("x.txt", b"a" * 101, "over the"),
    ("x.html", b"<html>\x00\x01\x02</html>", "not a text"),
])
def test_uploads_of_other_types_sizes_or_binary_content_are_refused(name, data, says):
    with pytest.raises(CollectionError, match=says):
        check_upload(name, data, max_bytes=100)


def test_nothing_is_stored_when_any_upload_is_refused(tmp_path):
    with pytest.raises(CollectionError):
        store_uploads(tmp_path / "uploads", [("good.txt", b"ok"), ("bad.exe", b"MZ")], set(), 100)
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_an_uploaded_article_is_stored_indexed_and_answered_from_at_once(fresh_settings):
    from assistant.pipeline import Assistant

    assistant = Assistant.open(fresh_settings)
    before = {e.doc_id for e in list_articles(assistant.index)}
    stored, report = add_uploads(fresh_settings, [("../兰州 新区.txt", UPLOADED)], set(assistant.index.articles))
    assert [p.parent for p in stored] == [fresh_settings.corpus_dir / "uploads"] and stored[0].name == "兰州_新区.txt"
    assert report.articles == len(before) + 1 and report.reused > 0  # the old passages were not embedded again
    assistant.reload()
    entries = {e.doc_id: e for e in list_articles(assistant.index)}
    assert entries.keys() == before | {"兰州_新区"}
    assert entries["兰州_新区"].title == "兰州新区设立科技成果转化基金" and entries["兰州_新区"].chunks >= 1
    answer = assistant.ask(QUESTION)
    assert not answer.refused and answer.citations[0].doc_id == "兰州_新区" and "10亿元" in answer.text


def test_a_failed_upload_leaves_the_index_and_the_corpus_folder_as_they_were(fresh_settings):
    from assistant.ingest import IngestError
    from assistant.pipeline import Assistant

    assistant = Assistant.open(fresh_settings)
    before = snapshot(fresh_settings.index_dir)
    page = b"<html><body><nav><a href='/'>home</a></nav><script>var a=1;</script></body></html>"
    with pytest.raises(IngestError, match="no article text"):
        add_uploads(fresh_settings, [("good.txt", UPLOADED), ("empty.html", page)], set(assistant.index.articles))
    assert snapshot(fresh_settings.index_dir) == before
    assert not any((fresh_settings.corpus_dir / "uploads").iterdir())


def test_the_chat_panel_adds_and_removes_and_reports_in_one_line(fresh_settings, tmp_path):
    from assistant.pipeline import Assistant
    from assistant.web import add_uploaded, article_rows, remove_chosen

    assistant = Assistant.open(fresh_settings)
    temp = tmp_path / "gradio-temp" / "lanzhou.txt"  # where Gradio puts an upload
    temp.parent.mkdir()
    temp.write_bytes(UPLOADED)
    assert add_uploaded(assistant, [str(temp)]).startswith("已加入 / Added: lanzhou")
    assert not temp.exists()  # the temp copy is not kept; the stored one is under the corpus folder
    assert "lanzhou" in [row[-1] for row in article_rows(assistant)]
    assert "10亿元" in assistant.ask(QUESTION).text

    too_big = tmp_path / "gradio-temp" / "big.txt"
    too_big.write_bytes(b"x" * (fresh_settings.upload_max_bytes + 1))
    before = snapshot(fresh_settings.index_dir)
    assert "upload limit" in add_uploaded(assistant, [str(too_big)]) and snapshot(fresh_settings.index_dir) == before

    assert "No such article: nope" in remove_chosen(assistant, ["nope"])
    assert remove_chosen(assistant, ["lanzhou"]).startswith("已移除 / Removed: lanzhou")
    assert "lanzhou" not in assistant.index.articles
    assert all(c.doc_id != "lanzhou" for c in assistant.ask(QUESTION).citations)
    assert (fresh_settings.index_dir / MANIFEST_NAME).is_file()


def test_a_running_assistant_sees_a_change_made_by_another_process(fresh_settings, tmp_path):
    from assistant import collection
    from assistant.pipeline import Assistant

    assistant = Assistant.open(fresh_settings)
    before = assistant.index
    extra = tmp_path / "lanzhou.txt"
    extra.write_bytes(UPLOADED)
    collection.add(fresh_settings, [extra])  # what `assistant add` in another terminal does
    answer = assistant.ask(QUESTION)
    assert assistant.index is not before and answer.citations[0].doc_id == "lanzhou"
    assert before.chunk_count < assistant.index.chunk_count


def test_the_chat_removes_by_document_id_never_by_a_folder_of_that_name(fresh_settings, tmp_path, monkeypatch):
    from assistant.pipeline import Assistant
    from assistant.web import add_uploaded, remove_chosen

    assistant = Assistant.open(fresh_settings)
    monkeypatch.chdir(fresh_settings.corpus_dir.parent)  # ./corpus is the corpus folder
    temp = tmp_path / "corpus.txt"
    temp.write_bytes(UPLOADED)
    assert add_uploaded(assistant, [str(temp)]).startswith("已加入 / Added: corpus")
    before = len(list_articles(assistant.index))
    assert remove_chosen(assistant, ["corpus"]).startswith("已移除 / Removed: corpus")
    assert len(list_articles(assistant.index)) == before - 1 and "a_suining" in assistant.index.article_ids()
