"""Pinyin names in English questions, spelled as the collection spells them (assistant.romanised)."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.query import load_dictionary, parse_query
from assistant.romanised import collection_spellings, split_syllables, with_collection_names
from assistant.text import tokenize_zh

ARTICLES = {
    "engineer": "北方重工推进泵阀攻关\n中国兵器首席科学家、北方重工总工程师雷丙旺介绍,北重集团将持续提升创新能力。\n",
    "award": "遂宁企业获表扬\n天齐锂业被通报表扬为科技创新先进企业。\n",
    "bureau": "兰州建设科技大市场\n兰州市科技局局长张贞祥说,兰州将建设科技大市场。\n"
              "市科技局副局长柯文博介绍,今年将完成三项关键技术攻关。\n",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    for name, text in ARTICLES.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("index") / "index", corpus_dir=corpus)).index


def test_a_word_splits_into_every_reading_as_syllables():
    syllables = load_dictionary().syllables
    assert {("xian",), ("xi", "an")} <= set(split_syllables("xian", syllables))
    assert split_syllables("bingwang", syllables) == [("bing", "wang")]
    assert split_syllables("strength", syllables) == []  # no pinyin: "str" reads as no syllable


@pytest.mark.parametrize("question, label, spelling", [
    ("What does Lei Bingwang do?", "Lei Bingwang", "雷丙旺"),  # a surname English has ("lei") joins the run
    ("Tianqi Lithium headquarters?", "Tianqi", "天齐"),  # first word, next to a translated one
    ("What did Zhang Zhenxiang say about Lanzhou's market?", "Zhang Zhenxiang", "张贞祥"),
    ("Which lab did Beizhong's team build?", "Beizhong", "北重"),  # possessive
    # jieba cuts 柯文 / 博: the pair 文博 is no token, the article still holds the name
    ("What did Ke Wenbo say?", "Ke Wenbo", "柯文博"),
])
def test_a_pinyin_name_is_spelled_as_the_collection_spells_it(index, question, label, spelling):
    query = with_collection_names(parse_query(question), index)
    groups = dict(query.expansion_groups)
    assert groups[label][0] == spelling
    assert all(t in query.lexical_tokens for t in tokenize_zh(spelling))


@pytest.mark.parametrize("question", [
    "Name a company that leads a consortium.",  # English words, though "name" reads as na-me
    "What did Wang Xiaoming say?",  # pinyin, but spelled nowhere in the collection
    "兰州市科技局局长是谁？",  # a Chinese question
    "How does Gansu's consortium work?",  # every name already rendered by the dictionary
])
def test_other_questions_are_left_as_parsed(index, question):
    query = parse_query(question)
    assert with_collection_names(query, index) == query


def test_only_spellings_an_article_holds_are_kept(index):
    characters = load_dictionary().characters
    assert collection_spellings([("lei", "bing", "wang")], characters, index) == ["雷丙旺"]
    assert collection_spellings([("wang", "xiao", "ming")], characters, index) == []
    # 张贞 and 贞祥 are both pairs the index holds; 张贞祥 is in the text, 张贞翔 is not.
    assert "张贞翔" not in collection_spellings([("zhang", "zhen", "xiang")], characters, index)


def test_a_given_name_is_found_in_pinyin_inside_a_title_cased_run_even_where_the_dictionary_translates_it():
    from assistant.romanised import spelled_name

    # "Qian" renders 钱三强 and "Lixin" a county: the names are given, so a run spelling one is it.
    assert spelled_name("Who is Qian Lixin?", ["孙建国", "钱立新"]) == "钱立新"
    assert spelled_name("What Position Does Sun Jianguo Hold?", ["孙建国"]) == "孙建国"
    assert spelled_name("What position does Sun Jianhua hold?", ["孙建国"]) is None
