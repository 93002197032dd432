import subprocess
import sys

import pytest

from assistant.text import detect_lang, match_form, normalize_width, to_halfwidth, to_simplified, tokenize_zh


def test_to_simplified_converts_traditional_and_leaves_other_text_alone():
    assert to_simplified("遂寧市技術合同") == "遂宁市技术合同"
    assert to_simplified("甘肃省创新联合体") == "甘肃省创新联合体"
    assert to_simplified("Inner Mongolia 2021") == "Inner Mongolia 2021"


def test_normalize_width_folds_fullwidth_ascii_and_lowercases():
    assert normalize_width("ＧＤＰ增长１７．７３％（Ａ）") == "gdp增长17.73%(a)"
    assert normalize_width("Ｈｅｌｌｏ　World") == "hello world"  # ideographic space too


def test_normalize_width_keeps_chinese_punctuation():
    assert normalize_width("科技、创新。《办法》") == "科技、创新。《办法》"


def test_to_halfwidth_keeps_case():
    assert to_halfwidth("ＮＦＬ") == "NFL"


def test_tokenize_zh_keeps_numbers_and_english_drops_punctuation_and_stopwords():
    tokens = tokenize_zh("2021年，甘肃的GDP增长了17.73%！Super Bowl")
    assert "17.73" in tokens and "2021" in tokens
    assert "gdp" in tokens and "super" in tokens and "bowl" in tokens
    assert not {"的", "了", "，", "！", "%", " "} & set(tokens)


def test_tokenize_zh_drops_english_stopwords():
    assert tokenize_zh("the history of the NFL") == ["history", "nfl"]


def test_tokenize_zh_adds_bigrams_of_long_words_so_parts_match():
    with_bigrams = tokenize_zh("甘肃省创新联合体", bigrams=True)
    assert "甘肃省" in with_bigrams and "甘肃" in with_bigrams  # "Gansu" -> 甘肃 finds 甘肃省
    assert "联合体" in with_bigrams and "联合" in with_bigrams
    without = tokenize_zh("甘肃省创新联合体", bigrams=False)
    assert "甘肃省" in without and "甘肃" not in without


def test_tokenize_zh_gives_traditional_and_fullwidth_text_the_same_tokens():
    assert tokenize_zh("遂寧市技術合同登記ＡＢＣ") == tokenize_zh("遂宁市技术合同登记abc")


def test_tokenize_zh_of_punctuation_only_is_empty():
    assert tokenize_zh("，。！？ ...") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("甘肃省如何组建创新联合体？", "zh"),
        ("遂寧市技術合同", "zh"),
        ("GDP增长了多少", "zh"),
        ("What is 揭榜挂帅?", "zh"),  # the Chinese term carries the question
        ("How does Gansu build innovation consortia?", "en"),
        ("Tell me about 揭榜挂帅 in Gansu province", "en"),
        ("2021", "en"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


def test_jieba_start_up_log_is_silenced():
    run = subprocess.run(
        [sys.executable, "-c", "from assistant.text import tokenize_zh; print(tokenize_zh('创新联合体'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "联合体" in run.stdout
    assert "prefix dict" not in run.stderr


# --- match form: one script for comparing questions and articles -------------------------


def test_match_form_is_simplified_halfwidth_lowercase():
    assert match_form("遂寧市技術合同認定登記額ＡＢＣ（１７．７３％）") == "遂宁市技术合同认定登记额abc(17.73%)"


@pytest.mark.parametrize("text", [
    "遂寧市技術合同認定登記額達17.73億元、同比增長33.21%。\n下一步，我們將建設一批中試平台。",
    "乾隆年間，著名的頭髮與發展問題",  # characters whose conversion depends on the phrase
    "İstanbul ＧＤＰ",  # a letter whose lower case is longer
    "",
])
def test_match_form_keeps_every_offset(text):
    # A span found in the match form is the same span of the stored text.
    assert len(match_form(text)) == len(text)
    assert len(to_simplified(text)) == len(text)
