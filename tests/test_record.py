"""Questions about an article itself, answered from its record (``assistant/answer/record.py``).

The articles are invented; their header lines are what the cleaner reads the record from, and
what no passage holds afterwards."""

from __future__ import annotations

import pytest

from assistant.answer.record import record_question
from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.query import parse_query
from assistant.render import answer_to_json, answer_to_text, by_passage
from assistant.web import passage_html

# A signed commentary: outlet, author and time in its header; the author's post in its last line.
COMMENTARY = """北方日报网 >> 评论
【理论周刊】让科技成果走出实验室
来源:北方日报 作者:孙建国 时间:2024-05-06 09:30
孙建国
让科技成果走出实验室,要建设一批中试平台,打通成果转化的“最后一公里”。
要完善科技成果评价机制,让科研人员把论文写在大地上。正如长篇小说《北方往事》写的那样,一座工业城市的变迁离不开科技。
作者为北方大学经济学院院长、教授
"""

# A report with an editor and a reporter, closing with the reporter's name.
REPORT = """华星市新建五个中试基地
2023-03-01 10:20 来源:华星日报 编辑:赵敏
华星市今年新建中试基地5个,服务企业120家。(记者 钱立新)
"""

# No record at all: a passage like the public reading-comprehension sets'.
PLAIN = """黄河鲤鱼
黄河鲤鱼是黄河中下游的特产,以肉质细嫩著称。
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Assistant:
    corpus = tmp_path_factory.mktemp("corpus")
    for name, text in {"a_commentary": COMMENTARY, "b_report": REPORT, "c_plain": PLAIN}.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("index") / "index", corpus_dir=corpus))


def records(answer) -> dict[str, str]:
    return {c.text[c.quote_start:c.quote_end]: c.text for c in answer.citations if c.kind == "record"}


def test_who_wrote_an_article_and_their_post_are_answered_from_its_record_and_author_note(recorded):
    answer = recorded.ask("《让科技成果走出实验室》这篇文章是谁写的？作者是什么职务？")
    assert not answer.refused
    assert "孙建国" in records(answer), answer.text
    notes = [c for c in answer.citations if c.kind == "passage"]
    assert [c.quote for c in notes] == ["作者为北方大学经济学院院长、教授"]
    article = recorded.index.article(notes[0].doc_id)
    assert article.text[notes[0].quote_start:notes[0].quote_end] == notes[0].quote
    # The record line is what the citation shows: labelled as a news page prints it.
    assert "作者：孙建国" in records(answer)["孙建国"] and "来源：北方日报" in records(answer)["孙建国"]


def test_a_question_naming_the_author_gets_the_record_and_the_post(recorded):
    answer = recorded.ask("孙建国是什么职务？")
    assert set(records(answer)) == {"孙建国"}
    assert any(c.quote.startswith("作者为北方大学") for c in answer.citations), answer.text


def test_when_and_where_an_article_ran_come_from_its_record(recorded):
    when = recorded.ask("When was the report on Huaxing's new pilot bases (中试基地) published?")
    assert set(records(when)) == {"2023-03-01 10:20"}, when.text
    outlet = recorded.ask("华星市新建中试基地的这篇报道是哪家媒体发布的？")
    assert set(records(outlet)) == {"华星日报"}, outlet.text
    editor = recorded.ask("华星市中试基地那篇报道的编辑是谁？")
    assert set(records(editor)) == {"赵敏"}, editor.text


def test_the_json_contract_says_which_citations_cite_the_record(recorded):
    payload = answer_to_json(recorded.ask("华星市新建中试基地的这篇报道是哪家媒体发布的？"))
    kinds = {c["kind"] for c in payload["citations"]}
    assert kinds == {"record"}
    for c in payload["citations"]:
        assert c["text"][c["quote_start"]:c["quote_end"]] == c["quote"]


def test_another_works_author_is_not_answered_from_an_articles_record(recorded):
    # 《北方往事》 is a novel the commentary mentions, not an article of the collection.
    answer = recorded.ask("《北方往事》的作者是谁？")
    assert not records(answer), answer.text
    # "谁写的" of something not called an article: not the article's byline either.
    assert not records(recorded.ask("北方往事是谁写的？"))


def test_an_article_whose_record_lacks_what_is_asked_is_a_refusal_saying_so(recorded):
    # The plain article has no record: no passage can hold its date (the cleaner takes such lines
    # out), so quoting its one sentence would answer nothing.
    answer = recorded.ask("介绍黄河鲤鱼的这篇文章是什么时候发布的？")
    assert answer.hits[0].chunk.doc_id == "c_plain"
    assert answer.refused and "该文章的发布时间" in answer.text, answer.text
    english = recorded.ask("Who wrote the article about the Yellow River carp (黄河鲤鱼)?")
    assert english.refused and "the article's author" in english.text, english.text


def test_a_quoted_title_alone_names_the_subject_not_the_article(recorded):
    # An article titled by its subject (as an encyclopaedia's are): "《黄河鲤鱼》的作者" asks about a
    # work called so, not for the byline of the article 黄河鲤鱼, and is left to the passages.
    answer = recorded.ask("《黄河鲤鱼》的作者是谁？")
    assert not records(answer) and "该文章" not in answer.text, answer.text


@pytest.mark.parametrize("question", [
    "作者认为怎样才能让科技成果走出实验室？",
    "In the author's view, what makes pilot platforms a priority?",
    "华星市新建了几个中试基地？",
    "In what year did Huaxing publish its first list of pilot bases?",
    "文章提到的中试基地是什么时候建成的？",
])
def test_questions_about_what_an_article_says_ask_nothing_of_its_record(question):
    asked = record_question(parse_query(question))
    assert asked is None or not asked.says_article or not asked.fields


def test_the_ways_of_asking_for_a_byline_date_or_outlet_are_read_in_both_languages():
    cases = {
        "这篇报道的记者是谁？": ("author",),
        "这篇文章是什么时候发表的？": ("date",),
        "华星那篇报道是哪年的？": ("date",),
        "Who wrote this commentary?": ("author",),
        "Which newspaper ran the interview?": ("source",),
        "When was the piece published, and who wrote it?": ("author", "date"),
    }
    for question, fields in cases.items():
        asked = record_question(parse_query(question))
        assert asked is not None and asked.fields == fields and asked.says_article, (question, asked)


def test_the_chat_shows_the_record_line_with_the_answered_values_marked(recorded):
    answer = recorded.ask("《让科技成果走出实验室》这篇文章是谁写的？什么时候发表的？")
    record_group = next(g for g in by_passage(answer.citations) if g[0].kind == "record")
    shown = passage_html(record_group, answer.hits, "zh")
    assert "文章信息" in shown and "<mark>孙建国</mark>" in shown and "<mark>2024-05-06 09:30</mark>" in shown, shown


def test_an_english_question_naming_the_author_in_pinyin_gets_the_record_and_the_post(recorded):
    # The author's name is in the record only, never in a passage: read by its pinyin.
    answer = recorded.ask("What position does Sun Jianguo hold?")
    assert set(records(answer)) == {"孙建国"}, answer.text
    assert any(c.quote.startswith("作者为北方大学") for c in answer.citations), answer.text
    # A pinyin name that spells no recorded author is no question about the record.
    assert not records(recorded.ask("What position does Sun Jianhua hold?"))


def test_a_question_in_traditional_script_about_the_article_gets_its_record(recorded):
    answer = recorded.ask("《讓科技成果走出實驗室》這篇文章是誰寫的？")
    assert set(records(answer)) == {"孙建国"}, answer.text
    # The terminal shows the record line the value comes from.
    assert "文章信息: 《【理论周刊】让科技成果走出实验室》" in answer_to_text(answer)


def test_a_reporter_named_in_pinyin_whose_name_the_text_also_writes_is_read_as_the_author(recorded):
    # 钱立新 closes the report "（记者 钱立新）": the collection spells the name too.
    answer = recorded.ask("Who is Qian Lixin?")
    assert set(records(answer)) == {"钱立新"}, answer.text
    assert any(c.kind == "passage" and "记者 钱立新" in c.quote for c in answer.citations), answer.text


def test_which_articles_the_collection_has_is_answered_with_their_records(recorded):
    every = recorded.ask("有哪些文章？")
    assert every.text.startswith("共3篇"), every.text
    titles = [c.quote for c in every.citations]
    assert [c.kind for c in every.citations] == ["record"] * 3
    assert titles[:2] == ["【理论周刊】让科技成果走出实验室", "华星市新建五个中试基地"]  # newest first, undated last
    newest = recorded.ask("哪篇文章最新？")
    assert [c.quote for c in newest.citations] == ["【理论周刊】让科技成果走出实验室"], newest.text
    oldest = recorded.ask("Which article is the oldest?")
    assert [c.quote for c in oldest.citations] == ["华星市新建五个中试基地"], oldest.text


def test_articles_on_a_topic_are_those_that_hold_it(recorded):
    both = recorded.ask("提到中试的文章有哪些？")
    assert sorted(c.quote for c in both.citations) == ["【理论周刊】让科技成果走出实验室", "华星市新建五个中试基地"], both.text
    one = recorded.ask("List the articles about the Yellow River carp (黄河鲤鱼).")
    assert [c.quote for c in one.citations] == ["黄河鲤鱼"], one.text


def test_an_article_of_a_treaty_or_a_count_of_things_is_no_question_about_the_collection():
    from assistant.answer.record import listing_question

    for question in ("Which article of the treaty limits fishing?", "华星市新建了几个中试基地？",
                     "孙建国在北方日报上发表了哪篇文章而成名？", "Which articles did Sun Jianguo write in 2020?",
                     "李振佑那篇文章里说要谋划哪些产业？", "What did the report say about pilot bases?"):
        assert listing_question(parse_query(question)) is None, question
