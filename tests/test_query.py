import re

import pytest

from assistant.query import (EmptyQueryError, clean_gloss, expand_english, expansion_groups, load_dictionary, parse_query,
                             read_glossary)
from assistant.text import tokenize_zh


def expansion_tokens(text: str) -> set[str]:
    return {token for term in expand_english(text) for token in tokenize_zh(term)}


def test_expand_english_prefers_the_multi_word_entry():
    assert expand_english("Inner Mongolia")[0] == "内蒙古"


def test_expand_english_innovation_consortium_yields_both_parts():
    tokens = expansion_tokens("innovation consortium")
    assert {"创新", "联合体"} <= tokens


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Guangdong", "广东"),
        ("Gansu", "甘肃"),
        ("Lanzhou", "兰州"),
        ("Suining", "遂宁"),
        ("innovation", "创新"),
        ("technology contract", "技术合同"),
        ("green channel", "绿色通道"),
        ("consortia", "联合体"),
        ("register", "登记"),
        ("filing", "备案"),
        ("unveiling the list", "揭榜挂帅"),
        ("open competition mechanism", "揭榜挂帅"),
        ("technology transfer", "技术转移"),
    ],
)
def test_expand_english_translates_names_and_policy_terms(english, chinese):
    assert chinese in expand_english(english)


def test_expand_english_finds_base_forms():
    assert "城市" in expand_english("cities")  # plural
    assert "位于" in expand_english("located")  # past participle
    assert "剧院" in expand_english("theatre")  # British spelling
    assert "企业" in expand_english("enterprises")
    assert "主席" in expand_english("chairmen")  # -men plural, the rule WordNet lookups share


def test_wordnet_verb_exceptions_give_the_bases_of_irregular_forms():
    from assistant.wordnet import is_inflected_verb

    assert "唱" in "".join(expand_english("sang"))  # sang -> sing, listed by WordNet
    assert "听" in "".join(expand_english("heard"))
    # "seed" is listed as its own base: not "see" + d, and no inflected verb
    assert expand_english("seed")[0] == "种子"
    assert not any("看" in term for term in expand_english("seed"))
    assert not is_inflected_verb("seed") and is_inflected_verb("fled") and is_inflected_verb("hosted")


def test_wordnet_noun_exceptions_give_the_singulars_of_irregular_plurals():
    from assistant.wordnet import tables

    # Forms no ending rule reads: WordNet's noun.exc lists them (nothing typed by hand).
    assert tables().noun_exception_bases("phenomena") == ("phenomenon",)
    assert "现象" in expand_english("phenomena")
    assert "老鼠" in expand_english("mice")
    assert tables().noun_exception_bases("cities") is None  # the -ies rule reads it


def test_expand_english_keeps_acronyms_apart_from_words():
    assert expand_english("the US")[0] == "美国"
    assert "美国" not in expand_english("tell us")
    assert "欧盟" in expand_english("EU")


def test_expand_english_skips_question_words_stopwords_and_numbers():
    assert expand_english("What is the one in 2021?") == []


def test_expand_english_caps_the_terms_per_word():
    assert len(expand_english("open", max_per_word=2)) == 2
    assert len(expand_english("open", max_per_word=5)) == 5


def test_parse_query_chinese_is_tokenised_like_the_index():
    query = parse_query("  甘肃省如何组建创新联合体？ ")
    assert query.text == "甘肃省如何组建创新联合体？"
    assert query.lang == "zh"
    assert query.expansion == []
    assert query.lexical_tokens == tokenize_zh("甘肃省如何组建创新联合体？")
    assert "如何" not in query.lexical_tokens


def test_parse_query_traditional_becomes_simplified():
    query = parse_query("遂寧市的技術合同如何登記？")
    assert query.lang == "zh"
    assert query.normalized == "遂宁市的技术合同如何登记?"
    assert {"遂宁市", "技术", "合同", "登记"} <= set(query.lexical_tokens)


def test_parse_query_english_keeps_english_words_and_adds_chinese():
    query = parse_query("How does Gansu register an innovation consortium?")
    assert query.lang == "en"
    assert query.normalized == "How does Gansu register an innovation consortium?"  # case kept for the encoder
    assert {"甘肃", "创新联合体"} <= set(query.expansion)
    assert {"gansu", "consortium", "甘肃", "登记", "创新", "联合体"} <= set(query.lexical_tokens)
    assert "how" not in query.lexical_tokens
    assert len(query.lexical_tokens) == len(set(query.lexical_tokens))


def test_parse_query_fullwidth_english():
    query = parse_query("Ｗｈｅｒｅ ｉｓ Ｌａｎｚｈｏｕ？")
    assert query.lang == "en"
    assert query.normalized == "Where is Lanzhou?"
    assert "兰州" in query.expansion


def test_parse_query_can_turn_expansion_off():
    query = parse_query("Where is Lanzhou?", max_per_word=0)
    assert query.expansion == [] and query.lexical_tokens == ["lanzhou"]


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_parse_query_rejects_an_empty_question(blank):
    with pytest.raises(EmptyQueryError, match="question is empty"):
        parse_query(blank)


def test_clean_gloss_makes_glosses_into_lookup_keys():
    assert clean_gloss("to put on record (law)") == "put on record"
    assert clean_gloss("to see sb off") == "see off"
    assert clean_gloss("high-tech") == "high tech"
    assert clean_gloss("Lanzhou, capital of Gansu 甘肅|甘肃[Gan1 su4]") == "lanzhou, capital of gansu"


def test_glossary_entries_are_english_to_chinese():
    glossary = read_glossary()
    assert len(glossary) >= 20
    for english, terms in glossary.items():
        assert re.fullmatch(r"[a-z&' ]+", english), english
        assert terms and all(re.fullmatch(r"[\u4e00-\u9fff]+", term) for term in terms), english


def test_parse_query_lists_the_places_a_question_names():
    en = parse_query("How many innovation consortia did Gansu and Inner Mongolia each form?")
    assert [(n.label, n.is_place) for n in en.names] == [("Gansu", True), ("Inner Mongolia", True)]
    assert "内蒙古" in en.names[1].variants
    zh = parse_query("广东省的创新联合体怎么备案？")
    assert zh.names[0].label == "广东省" and zh.names[0].is_place and "广东" in zh.names[0].variants
    # A capitalised first word or a month is not a name.
    assert parse_query("Roughly how many firms joined in May?").names == ()


@pytest.mark.parametrize("question, label, chinese", [
    ("What has Shaanxi done for its consortia?", "Shaanxi", "陕西"),  # not Hanyu pinyin (Shanxi is 山西)
    ("What has Hohhot done for its consortia?", "Hohhot", "呼和浩特"),
    ("Which firms in Baotou lead consortia?", "Baotou", "包头"),  # jieba does not tag 包头 as a place
])
def test_a_place_is_known_by_the_name_the_dictionary_describes_it_with(question, label, chinese):
    names = {n.label: n for n in parse_query(question).names}
    assert names[label].is_place and names[label].spelled_reliably and chinese in names[label].variants


def test_a_surname_that_also_names_a_one_character_county_is_not_a_place():
    # CC-CEDICT: 漳县 "Zhang county in Dingxi, Gansu"; Zhang is first of all a surname.
    assert [n.label for n in parse_query("What did Zhang Shirong promise the consortia?").names] == []


@pytest.mark.parametrize("question, label, chinese", [
    ("who leads lanzhou science bureau", "lanzhou", "兰州"),  # typed in lower case
    ("Gansu 的 innovation consortia 有几家?", "Gansu", "甘肃"),  # the first word
    ("what did hohhot's firms promise", "hohhot", "呼和浩特"),  # with a possessive
    ("how many consortia has inner mongolia registered", "inner mongolia", "内蒙古"),  # a place as a whole
])
def test_a_romanised_chinese_place_is_a_name_in_lower_case_or_first(question, label, chinese):
    names = {n.label.lower(): n for n in parse_query(question).names}  # read capitalised (names_capitalised)
    name = names[label.lower()]
    assert name.is_place and name.spelled_reliably and chinese in name.variants


@pytest.mark.parametrize("word, chinese", [("Sichuan", "四川"), ("sichuan", "四川"), ("lanzhou", "兰州")])
def test_a_romanised_name_typed_in_lower_case_is_rendered_as_the_capitalised_one(word, chinese):
    # "sichuan" and "lanzhou" are also inside English glosses ("Sichuan pepper" -> 巴蜀, "Lanzhou
    # University" -> 兰州大学): those alone missed 四川 and 兰州.
    # A capital elsewhere: the question is read as typed, "sichuan" in lower case.
    groups = dict(parse_query(f"How many firms in {word} lead consortia").expansion_groups)
    assert chinese in groups[word]


@pytest.mark.parametrize("question", ["Which firm is hailing from Lanzhou?", "which firm is hailing from lanzhou?"])
def test_an_inflected_english_verb_spelled_like_pinyin_is_no_place(question):
    # hai ling is 海陵 (a district's name), but "hailing" is hail + ing.
    query = parse_query(question)
    groups = {source.lower(): terms for source, terms in query.expansion_groups}
    assert "海陵" not in groups["hailing"] and [n.label for n in query.names] == ["lanzhou" if question[0] == "w" else "Lanzhou"]


def test_an_ordinary_english_word_spelled_like_pinyin_gets_no_name_reading():
    # "lining" reads as li ning (李宁), but it is an English word: only its English senses.
    groups = dict(parse_query("what is the lining of the tank made of").expansion_groups)
    assert groups["lining"] and "李宁" not in groups["lining"]


@pytest.mark.parametrize("question, label, chinese", [
    ("What is Suining's goal in the Chengdu-Chongqing region?", "Chengdu Chongqing", "成渝"),
    ("what did beijing-tianjin-hebei plan?", "beijing tianjin hebei", "京津冀"),
    ("What about the Shaanxi-Gansu-Ningxia base?", "Shaanxi Gansu Ningxia", "陕甘宁"),
])
def test_places_written_together_are_known_by_their_chinese_abbreviation(question, label, chinese):
    # CC-CEDICT: 成渝 "Chengdu 成都 and Chongqing 重慶|重庆", 京津冀 "Jing-Jin-Ji (Beijing, Tianjin and
    # Hebei Province)": articles write the abbreviation, never the two names.
    query = parse_query(question)
    assert any(chinese in translations for _, translations in query.expansion_groups)
    names = {n.label: n for n in query.names}
    assert names[label].is_place and chinese in names[label].variants


def test_a_possessive_ends_a_dictionary_phrase_as_it_ends_a_word():
    # Without the 's stripped, only "Mongolia" (蒙古, the country) was looked up.
    query = parse_query("What has Inner Mongolia's government promised?")
    assert [n.label for n in query.names] == ["Inner Mongolia"]
    assert any(words.startswith("Inner Mongolia") and "内蒙古" in translations
               for words, translations in query.expansion_groups)


def test_one_place_is_not_taken_for_an_abbreviation_it_is_part_of():
    names = {n.label: n for n in parse_query("What has Chengdu done?").names}
    assert names["Chengdu"].variants == ("chengdu", "成都")


@pytest.mark.parametrize("question", ["make a list of the changes", "guide me through the policies"])
def test_an_ordinary_english_word_that_is_also_pinyin_is_not_a_name(question):
    # make (Ma ke), change (Chang e), guide (Gui de) are also pinyin of Chinese proper nouns.
    assert parse_query(question).names == ()


@pytest.mark.parametrize("question, names", [
    ("Who is the Prime Minister of Turkey?", ["Turkey"]),  # 相国 (tagged a place) is an ordinary word
    ("Did the Prime Minister visit Inner Mongolia?", ["Inner Mongolia"]),
])
def test_a_title_whose_rendering_the_tagger_takes_for_a_place_is_no_name(question, names):
    # The renderings of an English name pass the test Chinese names pass: CC-CEDICT knows 相国
    # ("prime minister", an ancient chancellor) only as an ordinary word.
    assert [n.label for n in parse_query(question).names] == names


@pytest.mark.parametrize("question, word, chinese", [
    ("What is jiebang guashuai?", "jiebang", "揭榜"),  # jieba's word; CC-CEDICT lacks 揭榜
    ("What is jiebang guashuai?", "guashuai", "挂帅"),  # CC-CEDICT's reading gua4 shuai4
    ("Who leads the lanzhou kejiju?", "kejiju", "科技局"),
])
def test_a_chinese_word_written_in_lower_case_pinyin_is_translated(question, word, chinese):
    groups = dict(parse_query(question).expansion_groups)
    assert chinese in groups[word]


def test_a_capitalised_pinyin_word_is_a_name_not_an_ordinary_word():
    # "Tianqi" (天齐 Lithium) is also the pinyin of 天气 "weather": a name is not translated by sound.
    groups = dict(parse_query("What is Tianqi Lithium's stock code?").expansion_groups)
    assert "天气" not in groups.get("Tianqi", [])
    assert "天气" in dict(parse_query("what is tianqi?").expansion_groups)["tianqi"]


@pytest.mark.parametrize("word", ["base", "age", "bake"])
def test_an_english_word_is_not_read_as_pinyin(word):
    # base, age and bake are also toneless pinyin of Chinese words (巴塞, 阿哥, 罢课): the English
    # sense comes first, and the sound is only a fallback for words English has no entry for.
    sounds = {headword for _, _, headword in load_dictionary().word_pinyin(word)}
    assert sounds
    translations = dict(parse_query(f"what is the {word} of it?").expansion_groups)[word]
    assert translations and not set(translations) & sounds


@pytest.mark.parametrize("question, word, title", [
    ("Who heads Suining's Science and Technology Bureau?", "heads", "局长"),  # 科技局 -> 局长
    ("Who is the director of the Science and Technology Department?", "director", "厅长"),  # 科技厅 -> 厅长
    ("Who is the director of the institute?", "director", "所长"),  # 实验所 -> 所长
])
def test_the_head_of_a_body_is_named_after_the_body(question, word, title):
    # CC-CEDICT renders head/director as 脑袋, 主任, 总监, never 局长: Chinese names the head
    # of a 局 a 局长, and an article says 局长 where the question says "heads the bureau".
    groups = dict(parse_query(question).expansion_groups)
    assert groups[word][0] == title


@pytest.mark.parametrize("question, word", [
    ("Who is the chief engineer of Northern Heavy Industries?", "chief"),  # "Northern" gives 北部: no body is named
    ("Which enterprises lead Gansu's consortia?", "lead"),  # a verb, and no body is named
])
def test_no_office_title_without_a_body_noun(question, word):
    # The head word keeps the dictionary's own renderings (no 部长 from 北部, no 团长 from 财团).
    assert dict(parse_query(question).expansion_groups)[word] == dict(parse_query(word).expansion_groups)[word]


@pytest.mark.parametrize("question, names", [
    ("遂宁市申报了多少个项目？", ["遂宁市"]),  # jieba tags 申报 "to declare" nz
    ("群众为什么抗议？", []),  # ... and 抗议 "to protest" nz
    ("金川集团的董事长是谁？", ["金川"]),  # CC-CEDICT: Jin1 chuan1, a proper noun, stays a name
])
def test_an_ordinary_word_the_tagger_takes_for_a_name_is_no_name(question, names):
    # CC-CEDICT writes a proper noun's pinyin capitalised and an ordinary word's in lower case.
    assert [n.label for n in parse_query(question).names] == names


def test_a_copula_jieba_glued_to_an_unknown_name_is_not_part_of_it():
    # jieba's word-building cuts 德拉冈是 as 德拉 / 冈是: no name 冈是, which no article could mention.
    labels = [n.label for n in parse_query("让-保罗·德拉冈是哪国人？").names]
    assert not any(label.endswith("是") for label in labels)


def test_a_region_is_also_looked_for_without_diqu():
    names = {n.label: n.variants for n in parse_query("台湾地区的代理商是谁？").names}
    assert names == {"台湾地区": ("台湾地区", "台湾")}


@pytest.mark.parametrize("text, place, named", [
    ("内蒙古北方重工业集团与浙江大学、北京理工大学等单位联合", "北京", False),  # a university's name
    ("内蒙古北方重工业集团与浙江大学、北京理工大学等单位联合", "浙江", False),
    ("北京市科技局发布通知", "北京", True),  # the place's own body
    ("会议在北京举行,浙江大学派员参加", "北京", True),
    ("依托金川集团股份有限公司组建", "金川", True),  # a group goes by its place part
    ("北京的大学和研究院", "北京", True),  # 的 ends a name
])
def test_a_place_at_the_start_of_a_universitys_name_is_not_named(text, place, named):
    from assistant.entities import names_place

    assert names_place(text, place) == named


def test_a_place_the_question_names_only_in_a_hospitals_name_is_not_its_place():
    assert [n.label for n in parse_query("华西医院起源于哪里？").names if n.is_place] == []
    assert [n.label for n in parse_query("北京的大学有多少所？").names if n.is_place] == ["北京"]


def test_a_chinese_form_in_brackets_names_what_an_english_question_asks_about():
    names = parse_query("How many patents does Acme Machinery (华星机械) hold?").names
    assert [(n.label, n.is_place) for n in names] == [("华星机械", False)]
    # A name the question already has through the dictionary is not listed twice.
    assert [n.label for n in parse_query("What did Lanzhou (兰州) achieve?").names] == ["Lanzhou"]
    # A fuller spelling of a name the dictionary read replaces it: one place, not a comparison of two.
    names = parse_query("How many consortia has Inner Mongolia (内蒙古自治区) registered?").names
    assert [(n.label, n.variants, n.is_place) for n in names] == [("内蒙古自治区", ("内蒙古自治区", "内蒙古"), True)]
    assert [n.variants for n in parse_query("What fund did Lanzhou New Area (兰州新区) set up?").names] == [("兰州新区",)]


@pytest.mark.parametrize("typed, read", [
    ("who runs suining's science bureau", "who runs Suining's science bureau"),  # a romanised place
    ("how many consortia has inner mongolia registered", "how many consortia has Inner Mongolia registered"),
    ("what is the lining made of", "what is the lining made of"),  # English words that read as pinyin
    ("what is jiebang guashuai?", "what is jiebang guashuai?"),  # Chinese words typed in pinyin
    ("who is chi bo (池波)?", "who is Chi Bo (池波)?"),  # the pinyin a bracketed Chinese name glosses
])
def test_a_question_typed_in_lower_case_is_read_with_its_names_capitalised(typed, read):
    query = parse_query(typed)
    assert query.normalized == read and query.text == typed


def test_a_name_of_a_question_typed_in_lower_case_is_labelled_as_typed():
    # A refusal says "nothing in it mentions sichuan", as the user wrote it.
    query = parse_query("how did sichuan's firms do")
    assert [n.label for n in query.names] == ["sichuan"] and query.normalized == "how did Sichuan's firms do"


def test_without_expansion_a_lower_case_question_is_read_as_typed():
    assert parse_query("who runs suining's science bureau", max_per_word=0).normalized == "who runs suining's science bureau"


def test_a_question_with_a_capital_is_read_as_typed():
    assert parse_query("who runs suining's Science Bureau").normalized == "who runs suining's Science Bureau"


@pytest.mark.parametrize("typed, read", [
    ("Who heads Lanzhous science bureau?", "Who heads Lanzhou's science bureau?"),  # no pinyin ends in s
    ("what did hohhots firms do", "what did hohhot's firms do"),  # a romanisation the dictionary knows
    ("What does Lei Bingwangs team make?", "What does Lei Bingwang's team make?"),  # a person's pinyin
    ("Which buses and teas does his team sell?", "Which buses and teas does his team sell?"),  # English words
])
def test_a_possessive_typed_without_its_apostrophe_is_read_as_one(typed, read):
    from assistant.query import possessives_restored

    assert possessives_restored(typed) == read


def test_a_place_named_with_a_possessive_missing_its_apostrophe_is_still_a_name():
    query = parse_query("Who heads Lanzhous science bureau?")
    assert [n.label for n in query.names] == ["Lanzhou"] and query.text == "Who heads Lanzhous science bureau?"


@pytest.mark.parametrize("typed, meant", [
    ("inovation", "innovation"),  # a doubled letter dropped
    ("registerd", "registered"),
    ("lithuim", "lithium"),  # two letters swapped
    ("comercialisation", "commercialization"),  # two slips in a long word
    ("Inovation", None),  # capitalised: a name's spelling is not English
    ("guashuai", None), ("suinings", None),  # pinyin, and a pinyin possessive without its apostrophe
    ("smes", None),  # four letters: too often an acronym typed in lower case
    ("research", None),  # a word the checker knows
    ("wasnt", None), ("whats", None),  # a contraction typed without its apostrophe is no slip
    ("comercialisation", "commercialization"),  # two slips, found without spelling out every string
    ("internationalisaton", "internationalization"),
])
def test_a_slip_of_typing_is_read_as_the_word_meant(typed, meant):
    from assistant.query import spelling_correction

    assert spelling_correction(typed) == meant


def test_a_question_is_read_with_its_slips_corrected_and_kept_as_typed():
    query = parse_query("How many inovation consortia did Gansu set up?")
    assert query.text == "How many inovation consortia did Gansu set up?"
    assert query.normalized == "How many innovation consortia did Gansu set up?"
    # Read as the word meant, the phrase is found too ("innovation consortia" is one entry: 创新联合体).
    assert "创新联合体" in dict(query.expansion_groups)["innovation consortia"]


def test_words_the_dictionary_renders_or_that_read_as_pinyin_are_not_corrected():
    for typed in ("What is the jiebang guashuai mechanism?", "How do the programmes work?", "Who runs Tianqi?",
                  "why wasnt the project approved?", "甘肃首批组建了几家创新连合体"):
        assert parse_query(typed).normalized == typed


@pytest.mark.parametrize("typed", ["Which major cities were spared?", "Which famous scientist leads it?"])
def test_a_plural_whose_stem_reads_as_pinyin_is_no_possessive(typed):
    from assistant.query import possessives_restored

    # "citie" (ci ti e) and "famou" (fa mou) read as pinyin; the words are English all the same.
    assert possessives_restored(typed) == typed


def test_accented_latin_letters_are_read_without_their_accents():
    from assistant.text import without_accents

    assert without_accents("Nèi Měnggǔ, Temüjin, café; 甘肃、内蒙古。ß") == "Nei Menggu, Temujin, cafe; 甘肃、内蒙古。ß"
    query = parse_query("Who did Temüjin marry?")
    assert query.text == "Who did Temüjin marry?" and query.normalized == "Who did Temujin marry?"
    assert "铁木真" in dict(query.expansion_groups)["Temujin"]  # the dictionary spells him without the umlaut


@pytest.mark.parametrize("word, variants", [("首批", ("第一批",)), ("第一批", ("首批",)), ("首次", ("第一次",)),
                                            ("第一次", ("首次",)), ("首都", ()), ("首先", ()), ("第一", ()),
                                            ("首批次", ())])
def test_an_ordinal_first_has_both_spellings(word, variants):
    from assistant.entities import ordinal_variants

    assert ordinal_variants(word) == variants


def test_a_question_with_one_spelling_of_an_ordinal_searches_for_both():
    assert {"首批", "第一批"} <= set(parse_query("首批建成了哪些平台？").lexical_tokens)
    assert {"第一次", "首次"} <= set(parse_query("第一次评审在哪里举行？").lexical_tokens)
    assert "第一批" not in parse_query("首都有哪些平台？").lexical_tokens


def test_a_proper_phrase_is_found_without_its_last_generic_word():
    # CC-CEDICT glosses 一带一路 "Belt and Road Initiative, …"; users say "Belt and Road".
    groups = dict(expansion_groups("How are Belt and Road projects financed?"))
    assert groups["Belt and Road"][0] == "一带一路"


@pytest.mark.parametrize("key, shorter", [
    ("belt and road initiative", "belt and road"),
    ("van der waals", None),  # the last word is the name itself, no common noun
    ("bank of china", None),  # what is left ends with a stop word
    ("red cross", None),  # one word left
])
def test_only_a_common_noun_is_dropped_from_a_proper_phrase(key, shorter):
    from assistant.query import _without_last_word

    assert _without_last_word(key) == shorter
