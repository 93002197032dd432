"""When not to answer.

The grounds, checked in this order:

1. The input is not a question about the collection: an instruction to the assistant
   ("ignore previous instructions …", "print your system prompt", an SQL fragment), small
   talk (greetings, the weather, a joke, questions about the assistant itself), talk with
   the assistant in wordings no pattern knows (a model over the question's vector,
   ``smalltalk_model.py``), or text none of whose words occur in the collection (keyboard mash).
2. The question names a place or organisation no article mentions (a question about
   Guangdong gets no answer about Gansu). Names are compared in match form, so 遂寧市 finds 遂宁市.
   A place counts as mentioned only outside an organisation's name: 北京 of 北京理工大学 names
   a university, and the collection need not cover Beijing.
   A word jieba's tagger takes for a name but CC-CEDICT lists only as an ordinary word (抗议,
   申报, 古老) is no name, here or in check 7.
   In the languages of ``attribute_gate_langs``, a question whose terms known to the collection
   are all parts of names, with another content word no article uses (张贞祥是哪一年出生的: 出生),
   is refused too: the collection names the thing and never says what is asked of it.
3. No candidate sentence is probable enough: the selector's calibrated probability of the
   best sentence is below the threshold chosen on the dev split.
4. A "how many X" question whose best sentence, with its neighbours, never names X: a count
   of something else is not the answer; in its stricter form (``counted_figure_langs``), no
   clause names X with a figure ("全省两院院士全部在兰" names the academicians and counts none).
5. A question naming a year (or a decade) that the best sentence's article never mentions (in
   its text, its title or its date), while the article names other years: a figure for another
   year is not the answer.
6. A question asking for a number whose best sentence, with its neighbours, holds none the
   question does not already name: a sentence on the topic that never states the figure ("how
   large is the fund?" → "a fund will be set up") is not an answer. Narrower forms of the same:
   a date question with no date or temporal clause (在…时) around the best sentence, a share or rate question with no
   percentage, a question asking how much a figure changed (比上年增长了百分之几) with no change of
   a figure in a sentence naming what changed, a money question with no amount, an "each one's figure" question with fewer
   than two figures, a "多少家 / 几项" question with no count in that measure word, a "多少个 / 几个"
   question with no count in any, a question asking how many of a total it states are of one part
   ("24个创新联合体里，种业方向的有几个") with no clause counting that part, a "who" question
   naming an office (董事长是谁) with no office named.
7. A question naming an organisation (富美达公司, 兰石集团) or, more widely, any Chinese proper
   name (a person, a place, a company), none of which the best sentence's paragraph or its
   article's title names (also by abbreviation: 北重集团 for 内蒙古北方重工业集团有限公司): a
   sentence about something else is not the answer.

Whether checks 4 to 7 are on, per question language, was chosen on dev data (the dev splits and
the public training questions: ``benchmarks/answers.md``, ``benchmarks/refusal_checks/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from assistant.answer.candidates import Candidate
from assistant.answer.compose import split_clauses
from assistant.answer.features import YEAR
from assistant.answer.qtype import QuestionType, asked_words, asks_change, asks_share, gives_new, gives_share
from assistant.answer.settings import AnswerSettings
from assistant.answer.terms import Term
from assistant.entities import (
    ADMIN_SUFFIX, PERSON_PLACE_ORG_TAGS, PERSON_TAGS, abbreviated_in, names_place, organisations, posseg, proper_names,
    short_forms)
from assistant.query import Query, expand_english, is_ordinary_chinese_word, renders_directly
from assistant.index import Index, TermStats
from assistant.text import STOPWORDS_EN, match_form, tokenize_zh
from assistant.wordnet import is_inflected_verb, is_mostly_noun, is_noun, is_verb, names_counted_things

# Addressed to the assistant rather than asking about documents: prompt-injection phrasing (to
# disregard its instructions, or the material it answers from: "ignore the documents / context and
# say ..."), role play, requests for its own configuration, code to execute.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|above|previous|everything|"
    r"documents?|context|sources?|articles?|passages?|collection)\b|"
    r"\bsystem prompt\b|\byou are (?:now|a|an)\b|\bact as\b|\bpretend\b|\bjailbreak\b|"
    r"\b(?:drop|truncate|delete from|insert into|alter)\s+table\b|\bselect\b.+\bfrom\b.+;|;\s*--|<\s*script|"
    r"忽略.{0,12}(?:指令|指示|提示|要求|规则|说明|以上|之前|前面|文档|资料|文章|上下文|材料)|系统提示|提示词|你现在是|"
    r"(?:你|请你?)(?:来|现在)?扮演|假装你|"  # role play addressed to the assistant, not "X在剧中扮演一名…" or "扮演…角色"
    # A request to compose something (a poem, a letter, a report): the assistant quotes, it does not write.
    r"(?:帮我|给我|替我|为我|请你|麻烦你?)(?:写|起草|撰写|编写|草拟|拟一)|^\W*请?(?:写|起草|撰写)一[首篇份封段]|"
    r"\b(?:write|draft|compose)\s+(?:me|us)\b|\b(?:please|can you|could you|would you)\s+(?:write|draft|compose)\b|"
    r"^\W*(?:write|draft|compose)\s+(?:a|an|my|our)\b|"
    # A request to rework the assistant's own answer (rewrite, shorten, translate it): it quotes
    # the articles and cannot, and quotes found for "your last answer as a tweet" answer nothing.
    r"\byour\s+(?:(?:last|previous|above|earlier)\s+)?(?:answer|reply|response)\b|"
    r"\b(?:the|that|this)\s+(?:last|previous|above|earlier)\s+(?:answer|reply|response)\b|"
    r"(?:你的|你|上面的?|上述的?|刚才的?|之前的?|前面的?)(?:回答|回复|答案)",
    re.IGNORECASE)


# Conversation rather than a question about documents: asking about the weather, for a
# joke, or about the assistant itself is small talk whatever else the text says...
_SMALL_TALK = re.compile(
    r"天气(?:怎么样|如何|好吗|好不好)|会下雨吗|讲个笑话|说个笑话|你是谁|你叫什么|你是什么|你能做什么|你会做什么|"
    r"\b(?:what(?:'s| is) the weather|how is the weather|weather like|tell me a joke|who are you|what are you|"
    r"what can you do|how are you)\b",
    re.IGNORECASE)
# ... while a greeting or thanks is small talk only when little else is said ("Hey, how many
# consortia …?" is a question). Thanks and farewells close a conversation: with them, a text
# that asks nothing is talk however long ("thanks a lot, that was really helpful!"); a greeting
# may open a keyword query.
_THANKS_WORDS = r"谢谢|多谢|再见|拜拜|\b(?:thanks|thank you|bye|goodbye)\b"
_THANKS = re.compile(_THANKS_WORDS, re.IGNORECASE)
_GREETING = re.compile(rf"你好|您好|哈喽|嗨|早上好|晚上好|\b(?:hi|hello|hey|good (?:morning|afternoon|evening))\b|{_THANKS_WORDS}",
                       re.IGNORECASE)
_CONTENT = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}")
# Chinese question words (哪一年, 几家, 什么样); ``_ASKS`` below adds 啥 and 多长, 多高 ….
_QUESTION_WORDS_ZH = "哪|什么|多少|几|谁|怎|如何|为何"
# What makes a text ask for something: a question mark, an interrogative word, a request verb.
_ASKS_SOMETHING = re.compile(
    rf"[?？]|吗|呢|{_QUESTION_WORDS_ZH}|为什么|是否|有没有|介绍|列出|说说|告诉|讲讲|"
    r"\b(?:what|which|who|whom|whose|when|where|why|how|tell|show|list|explain|give|find)\b|"
    r"(?:^|[,.;!]\s*)(?:is|are|was|were|do|does|did|can|could|will|would)\b",
    re.IGNORECASE)


def small_talk(query: Query) -> bool:
    """Whether the text is conversation: the weather, a joke, the assistant itself, a greeting with
    little else said, or thanks or a farewell with nothing asked."""
    text = query.normalized  # Simplified, half-width: 天氣怎麼樣 reads as 天气怎么样
    if _SMALL_TALK.search(text):
        return True
    rest = _GREETING.sub(" ", text)
    if rest == text:
        return False
    # Thanks that name a place or body ("thanks, Suining R&D spending 2023") go on to a query.
    return len(_CONTENT.findall(rest)) < 3 or (
        bool(_THANKS.search(text)) and not query.names and not _ASKS_SOMETHING.search(rest))


def instruction(query: Query) -> bool:
    """Whether the text instructs the assistant instead of asking about the articles."""
    return bool(_INSTRUCTION.search(query.normalized))


def off_collection(terms: list[Term]) -> bool:
    """No word of the question occurs anywhere in the collection."""
    return not terms


# A Chinese word holding one of these asks (哪一年, 几家, 什么样; 多长, 多高, 多远: jieba keeps 多 and
# a measure adjective as one word): it is no content word.
_ASKS = re.compile(rf"{_QUESTION_WORDS_ZH}|啥|多[长大高远久重宽深厚快粗]")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def unknown_attribute(query: Query, terms: list[Term], lexical: TermStats) -> list[str]:
    """The question's content words that occur nowhere in the collection, when every term it
    does know is part of a name (else, or when there are none, an empty list): the collection
    names the thing asked about but never uses the word for what is asked of it (张贞祥 … 出生,
    "North Heavy Industries' revenue")."""
    if not terms:
        return []
    unknown, known_are_names = (_chinese_unknown(query, terms, lexical) if query.lang == "zh"
                                else _english_unknown(query, lexical))
    return unknown if unknown and known_are_names else []


def _chinese_unknown(query: Query, terms: list[Term], lexical: TermStats) -> tuple[list[str], bool]:
    """(the content words no article uses, whether every known term is part of a name); the words
    are looked for only when the terms are all names (most questions stop at the cached name tags)."""
    named = _chinese_names(query.match)
    if not all(any(len(t) >= 2 and any(t in n for n in named) for t in term.tokens) for term in terms):
        return [], False
    # A noun after a question word names the kind of thing asked (什么职务, 哪所大学), which the
    # answering sentence need not write (总工程师李明华 answers 李明华是什么职务); a verb there is
    # what is asked about (哪一年出生).
    tagged = list(posseg().cut(query.normalized))
    kinds = {w.word for previous, w in zip(tagged, tagged[1:]) if _ASKS.search(previous.word) and w.flag.startswith("n")}
    unknown = [w for w in dict.fromkeys(tokenize_zh(query.normalized, bigrams=False))
               if _CJK_WORD.fullmatch(w) and not _ASKS.search(w) and w not in kinds and not _known(w, lexical)]
    return unknown, True


def _english_unknown(query: Query, lexical: TermStats) -> tuple[list[str], bool]:
    """The same for an English question: a capitalised word or phrase (a pinyin name's group is
    one), or one whose rendering lies inside a Chinese name the question writes, is a name, and an
    unknown word or phrase counts when its last word is a noun in use (``_names_a_thing``)."""
    asking = asked_words(query)
    # Chinese written into the English question counts as in a Chinese one (兰石集团 is a name).
    cjk = _CJK_WORD.findall(query.match)
    named = _chinese_names(" ".join(cjk))
    unknown, all_names = [], True
    for source, translations in query.expansion_groups:
        if source.lower() in asking:
            continue
        if any(_known(term, lexical) for term in translations):
            # A word glossing a Chinese name the question writes is part of it, typed in any
            # case: "lanshi group (兰石集团)" (集团; looked up only for a word in lower case).
            all_names = all_names and (source[:1].isupper() or any(
                any(t in n for n in named) and _known(t, lexical) for t in translations))
        elif source.islower() and _names_a_thing(source.split()[-1]):
            unknown.append(source)
    for word in cjk:
        if _known(word, lexical):
            all_names = all_names and any(word in n for n in named)
    return unknown, all_names


def _known(word: str, lexical: TermStats) -> bool:
    """Whether the collection has the word or one of its character pairs."""
    return any(lexical.document_frequency(t) > 0 for t in [word, *tokenize_zh(word)])


def _names_a_thing(word: str) -> bool:
    """Whether an English word is a noun (WordNet) used as one: a verb's renderings often miss the
    verb a Chinese passage uses (went, saw), while an attribute is named by a noun (revenue). A
    noun with a verb sense counts when it is mostly a noun in use (chairman, number)."""
    if not is_noun(word) or is_inflected_verb(word):
        return False
    return not is_verb(word) or is_mostly_noun(word)


def _chinese_names(match: str) -> list[str]:
    """Every name a Chinese text writes: proper names jieba tags, and organisations by their suffix."""
    return [*proper_names(match, PERSON_PLACE_ORG_TAGS), *(f for o in organisations(match) for f in o.full[:1])]


def missing_names(query: Query, index: Index) -> list[str]:
    """Names of the question, reliably spelled, that no article mentions, as the question wrote them
    (a university's short form, 浙大, is mentioned where the university is: ``short_form_of_named``)."""
    return [n.label for n in query.names
            if n.spelled_reliably and not any(index.mentions(match_form(v), place=n.is_place) for v in n.variants)
            and not short_form_of_named(match_form(n.label), index)]


def short_form_of_named(name: str, index: Index) -> bool:
    """Whether ``name`` is the short form (``entities.short_forms``: 浙大) of a university the
    collection names (浙江大学), found among its lexical tokens. Only four-character names shorten
    so (北京大学 -> 北大; 北京理工大学 is 北理工, not 北大)."""
    if len(name) != 2 or not name.endswith("大"):
        return False
    return any(len(token) == 4 and token.startswith(name[0]) and name in short_forms(token) and index.mentions(token)
               for token in index.tokens_with(name[0]))


def place_articles(query: Query, index: Index, doc_ids: set[str]) -> dict[str, set[str]]:
    """For each place the question names: which of ``doc_ids`` are about it (mention it)."""
    out: dict[str, set[str]] = {}
    for name in query.names:
        if not name.is_place or not name.spelled_reliably or short_form_of_named(match_form(name.label), index):
            continue  # 浙大, tagged a place (浙, Zhejiang), names 浙江大学 where the collection does
        forms = [match_form(v) for v in name.variants]
        # 北京 in 北京理工大学 names a university, not what the article is about
        out[name.label] = {d for d in doc_ids if any(names_place(index.match_text(d).text, f)
                                                     or names_place(index.match_text(d).title, f) for f in forms)}
    return out


def _checks_counted(qtype: QuestionType) -> bool:
    """Whether a "how many X" question's X is looked for in the answer: not an English X that
    Chinese counts with a measure word ("how many times / points / seconds": the answer says 两次,
    308分, 17秒 and never translates X), nor one the dictionary renders only through glosses that
    contain it ("labs": 贝尔实验室, never 实验室)."""
    if not qtype.counted_forms:
        return False
    words = qtype.counted.split()
    if words and words[-1].isascii():
        return names_counted_things(words[-1]) and renders_directly(words[-1])
    return True


def counted_unnamed(qtype: QuestionType, best: Candidate) -> bool:
    """A "how many X" question, and neither the best sentence nor its neighbours name X
    (an X :func:`_checks_counted` leaves out is not looked for)."""
    if not _checks_counted(qtype):
        return False
    around = f"{best.before} {best.match} {best.after}"
    return not any(form in around for form in qtype.counted_forms)


def counted_uncounted(qtype: QuestionType, best: Candidate, question_match: str) -> bool:
    """A "how many X" question (X as :func:`counted_unnamed` reads it), and no clause of the best
    sentence or its neighbours names X together with a figure the question does not already name
    (a count of X is in the clause that names it: "院士12人"): "全省两院院士全部在兰" names the
    academicians and counts none."""
    if not _checks_counted(qtype):
        return False
    return not any(any(form in clause for form in qtype.counted_forms) and gives_new(qtype, clause, question_match)
                   for clause in _clauses_around(best))


# The types a sentence pattern sees reliably enough to refuse for their absence: a figure. A
# person, place or date is often given without the pattern's cues (业主, 律师 answer "who";
# a clause answers "when …"): on the public training questions and the dev split, checking them
# refused 21 English and 73 Chinese answerable questions, checking numbers 4 and 6 (issue 6).
_CHECKED_TYPES = ("number",)


def type_unsupplied(qtype: QuestionType, best: Candidate, question_match: str,
                    kinds: tuple[str, ...] = _CHECKED_TYPES) -> bool:
    """The question asks for a number (or another of ``kinds``), and neither the best sentence nor
    its neighbours hold one that the question (in match form) does not already contain."""
    if qtype.kind not in kinds:
        return False
    return not any(gives_new(qtype, text, question_match) for text in _around(best))


# A circumstance answering "when": a temporal clause (在/当 … 时, … 的时候, 每当, 一旦, … 之后).
_TEMPORAL_CLAUSE = re.compile(r"(?:在|当)[^,，。；;！？!?]{1,40}?(?:时|之时|的时候|之后|之前|以后|以前)|的时候|每当|一旦")


def date_unsupplied(qtype: QuestionType, best: Candidate, question_match: str) -> bool:
    """A date question, and neither the best sentence nor its neighbours hold a date the question
    does not name, nor a temporal clause ("when does it occur": "在免疫系统不如正常状态活跃时")."""
    return type_unsupplied(qtype, best, question_match, ("date",)) and not any(
        _TEMPORAL_CLAUSE.search(text) for text in _around(best))


# An English figure with a magnitude word, as a Chinese text writes it: "1.24 billion" is 12.4亿,
# "70 million" 7000万. The checks for a figure the question does not already name compare text.
_ENGLISH_MAGNITUDE = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(thousand|million|billion|trillion)\b(\s*(?:yuan|rmb)\b)?",
                                re.IGNORECASE)
_MAGNITUDE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def chinese_unit_figures(text: str) -> list[str]:
    """The figures of an English text that carry a magnitude word, in Chinese units (亿, 万), with
    元 when the text says yuan ("70 million yuan": 7000万元)."""
    out = []
    for m in _ENGLISH_MAGNITUDE.finditer(text):
        value = float(m.group(1).replace(",", "")) * _MAGNITUDE[m.group(2).lower()]
        if value < 1e4:
            figure = f"{value:g}"
        else:
            unit, scale = ("万亿", 1e12) if value >= 1e12 else ("亿", 1e8) if value >= 1e8 else ("万", 1e4)
            figure = f"{round(value / scale, 6):g}{unit}"
        out.append(f"{figure}元" if m.group(3) else figure)
    return out


def _around(best: Candidate) -> list[str]:
    return [text for text in (best.before, best.match, best.after) if text]


def _clauses_around(best: Candidate) -> Iterator[str]:
    """The clauses of the best sentence and its neighbours (a figure counts what its clause names)."""
    return (clause for text in _around(best) for clause in _clauses(text))


def _clauses(text: str) -> Iterator[str]:
    return (text[a:b] for a, b in split_clauses(text, 0, len(text)))


def _renderings(query: Query, words: set[str]) -> list[str]:
    """The Chinese renderings (two characters or more) of the question's English ``words`` (lower case)."""
    return [t for word, terms in query.expansion_groups if word.lower() in words for t in terms if len(t) > 1]


def share_unsupplied(query: Query, best: Candidate) -> bool:
    """The question asks for a share or rate, and neither the best sentence nor its neighbours
    give one (a percentage, 成 or multiple) that the question does not already name."""
    return asks_share(query) and not any(gives_share(text, query.match) for text in _around(best))


# A question asking for each one's figure ("各自多少", "how much did each get"): a sentence giving one
# figure (a total) does not answer it. An ordinal (第一批) is not a figure.
_EACH_QUESTION = re.compile(r"各自|分别|每[个家项所位一]|各[个家项]|\b(?:each|respectively|apiece|individually)\b",
                            re.IGNORECASE)
_FIGURE = re.compile(r"(?<!第)\d+(?:[.,]\d+)*|(?<![\d第零〇一二两三四五六七八九十百千万亿])[零〇一二两三四五六七八九十百千万亿]+(?=[个家项名位支所件条座种批次倍人元亿万])")


# A question asking for an amount of money: the answer is an amount in 元 (or another currency), and
# a count of projects or a share does not answer it.
_MONEY_QUESTION = re.compile(
    r"多少钱|(?:经费|资金|投入|投资|营收|收入|金额|预算|拨款|奖金|补助|补贴|产值|销售额|利润|营业额)[^，,。？?]{0,8}(?:多少|几)|"
    r"(?:多少|几)[^，,。？?]{0,4}(?:经费|资金|钱|元(?![素件器首旦宵代朝老帅气]))|"  # 多少元, not 多少个元素
    r"\bhow much (?:money|funding|investment|revenue|spending|did \w+ (?:invest|spend|raise|earn|cost))|"
    r"\b(?:funding|revenue|investment|budget|spending|turnover|profit|yuan|rmb|dollars?)\b", re.IGNORECASE)
_MONEY = re.compile(r"\d+(?:[.,]\d+)*\s*(?:[万亿千百]|million|billion)?\s*(?:元|美元|欧元|英镑|日元|港元|块)|"
                    r"[零〇一二两三四五六七八九十百千万亿]+(?:元|美元|欧元|英镑|日元|港元)|[$¥£€]\s*\d")


def asks_money(qtype: QuestionType, query: Query) -> bool:
    """Whether a number question asks for an amount of money (经费多少, how much funding)."""
    return qtype.kind == "number" and bool(_MONEY_QUESTION.search(query.normalized))


def money_unsupplied(qtype: QuestionType, query: Query, best: Candidate) -> bool:
    """The question asks for an amount of money, and neither the best sentence nor its neighbours
    give one the question does not already name."""
    if not asks_money(qtype, query):
        return False
    return not any(m.group(0) not in query.match for text in _around(best) for m in _MONEY.finditer(text))


def asks_each(qtype: QuestionType, query: Query) -> bool:
    """Whether the question asks for each one's figure (各自多少, how much did each get)."""
    return qtype.kind == "number" and bool(_EACH_QUESTION.search(query.normalized))


def each_unsupplied(qtype: QuestionType, query: Query, best: Candidate) -> bool:
    """A number question asking for each one's figure, and the best sentence with its neighbours
    holds fewer than two figures the question does not already name."""
    if not asks_each(qtype, query):
        return False
    return len(set().union(*(_new_figures(text, query.match) for text in _around(best)))) < 2


def _new_figures(text: str, question_match: str) -> set[str]:
    """The figures of ``text`` (digits, or Chinese numerals before a measure word) the question does not name."""
    return {m.group(0) for m in _FIGURE.finditer(text) if m.group(0) not in question_match}


# A question asking how much a figure changed ("比上年增长了百分之多少", "year-on-year growth rate"):
# a level's share (强度达到0.73%) or another figure's growth (登记额同比增长33.21%) does not answer it
# (``qtype.asks_change`` reads the question). Chinese verbs of change: a figure in their clause is a
# change, not a level.
_CHANGE = re.compile(r"增长|增加|增幅|增速|提高|提升|上升|上涨|下降|减少|降低|下跌|回落|翻")
# Where a Chinese change question's subject ends: its comparison (比上年, 同比, 较去年) or the change.
_SUBJECT_END = re.compile(r"同比|环比|比|较|增幅|增速|增长|降幅")
_NOT_SUBJECT_TAGS = ("ns", "nr")  # a place or person says where or whose, not what changed


def change_subject(query: Query) -> tuple[str, ...]:
    """The words that name what a change question asks the change of (match form): Chinese, the
    nouns (not places or people, two characters or more) before its comparison or change word;
    English, the renderings (two characters or more) of its lower-case words other than the
    cues of a date or number question."""
    if query.lang == "zh":
        end = _SUBJECT_END.search(query.match)
        subject = query.match[:end.start()] if end else query.match
        return tuple(dict.fromkeys(w.word for w in posseg().cut(subject) if len(w.word) > 1
                                   and w.flag.startswith("n") and not w.flag.startswith(_NOT_SUBJECT_TAGS)))
    asking = asked_words(query)
    return tuple(dict.fromkeys(match_form(t) for source, terms in query.expansion_groups
                               if not source[:1].isupper() and source.lower() not in asking
                               and source.lower() not in STOPWORDS_EN for t in terms if len(t) > 1))


def change_unsupplied(query: Query, best: Candidate) -> bool:
    """A question asking a rate of change, and no sentence of the best sentence and its neighbours
    has a clause with a verb of change and a share or figure the question does not name, while
    naming a word of the question's subject (:func:`change_subject`; when it has none, the clause
    alone answers)."""
    if not asks_change(query):
        return False
    subject = change_subject(query)
    for text in _around(best):
        if subject and not any(word in text for word in subject):
            continue
        if any(_CHANGE.search(clause) and (gives_share(clause, query.match) or _new_figures(clause, query.match))
               for clause in _clauses(text)):
            return False
    return True


# "多少家 / 几项 / 多少人": the question names the measure word its answer counts in, and a count in
# another measure (六成 for 多少家, 117个平台 for 多少家高校) or no count at all (一批泵阀产品) is
# not the answer. A question in 个, the generic measure word, asks for nothing specific and is not
# checked; a count in 个 does not answer 多少家 either (stricter than accepting it, and chosen over
# that on dev: benchmarks/refusal_checks/measure_gate_langs.md). 元 and 年 are read by the money
# check and the date type.
_HOW_MANY = r"(?:多少|(?<![哪第])几)"  # not 哪几 (which) or 第几 (an ordinal)
_ASKED_MEASURE = re.compile(_HOW_MANY + "([家项名位支所件条座种批次倍人台辆套只亩吨])")
_COUNT_ASKED = re.compile(_HOW_MANY)
_MEASURE_GROUPS = ("名位人", "家所")
# Kinds are also counted as 类 or as a noun for "kind" in 个: 16,000个品种 answers 多少种树木.
_KINDS = "|类|个(?:品种|种类|物种)"
_COUNT_BEFORE_MEASURE = r"(?:\d[\d,.]*\s*[万亿千百]?|[零〇一二两三四五六七八九十百千万亿几数上近]+)\s*(?:余|多|来)?\s*"
# A count starts where no number or 第 stands before it: 第一批 is an ordinal, and 40家 is not 0家.
_COUNT_START = r"(?<![第\d零〇一二两三四五六七八九十百千万亿])"


def asked_measure(query: Query) -> str:
    """The measure word a Chinese count question asks in (多少家 -> 家), or ""."""
    match = _ASKED_MEASURE.search(query.normalized)
    return match.group(1) if match else ""


def measure_unsupplied(query: Query, best: Candidate) -> bool:
    """A question asking 多少/几 + a measure word, and neither the best sentence nor its
    neighbours hold a count in that measure word (or its group's: 名位人, 家所; for 种 also a count of
    kinds: N类, N个品种) that the question lacks. A question asking several counts ("多少个联合体？
    多少家单位？") is answered part by part: a count for any of its parts passes the lead (one asked
    in 个 by any measure word), and composition adds the sentences for the others."""
    measures = [m.group(1) for m in _ASKED_MEASURE.finditer(query.normalized)]
    if not measures:
        return False
    counts = [_count_in(measures[0])]
    if len(_COUNT_ASKED.findall(query.normalized)) > 1:
        counts = [_count_in(measure) for measure in dict.fromkeys(measures)]
        if _ASKED_GENERIC_MEASURE.search(query.normalized):
            counts.append(_ANY_COUNT)
    return not any(m.group(0) not in query.match for text in _around(best) for count in counts
                   for m in count.finditer(text))


def _count_in(measure: str) -> re.Pattern:
    """A count in ``measure`` or a measure word of its group (for 种 also a count of kinds)."""
    accepted = next((group for group in _MEASURE_GROUPS if measure in group), measure)
    kinds = _KINDS if measure == "种" else ""
    return re.compile(f"{_COUNT_START}{_COUNT_BEFORE_MEASURE}(?:[{accepted}]{kinds})")


# "多少个 / 几个": the generic measure word asks for a count whatever the answer counts it in (创新联合体5家
# answers 多少个创新联合体), so any of the common Chinese classifiers (a closed grammatical class)
# carries the answer; a lead with no count at all does not.
_ASKED_GENERIC_MEASURE = re.compile(_HOW_MANY + "个")
_CLASSIFIERS = "个家项名位支所件条座种类批次倍人台辆套只亩吨颗本篇场部款门届份块张间处栋艘架枚株头匹棵"
_ANY_COUNT = re.compile(f"{_COUNT_START}{_COUNT_BEFORE_MEASURE}[{_CLASSIFIERS}]")


def asks_generic_count(query: Query) -> bool:
    """A Chinese count question in 个, the generic measure word (多少个, 几个; not 哪几个, 第几个)."""
    return query.lang == "zh" and bool(_ASKED_GENERIC_MEASURE.search(query.normalized))


def generic_count_unsupplied(query: Query, best: Candidate) -> bool:
    """A question asking 多少个/几个, and neither the best sentence nor its neighbours hold a count
    in any measure word that the question lacks."""
    if not asks_generic_count(query):
        return False
    return not any(m.group(0) not in query.match for text in _around(best) for m in _ANY_COUNT.finditer(text))


# "24个创新联合体里，种业方向的有几个" / "Of the 244 member units, how many are universities": the
# question states a total and asks how many of it are of one part. The total, or counts of other
# parts ("国家级2个、省级65个" for a question about 锂电), do not answer; a clause that names the part
# together with a figure the question lacks may. The part is read from the question's grammar:
# after the total's 里 / 中 / 其中 (Chinese), after "how many (of them) are" (English).
# A count the question states (24个, 244家, 7000万元): figures only, not 几个 or 数家.
_STATED_COUNT = rf"{_COUNT_START}(?:\d[\d,.]*\s*[万亿千百]?|[零〇一二两三四五六七八九十百千万亿]+)\s*(?:余|多|来)?\s*[{_CLASSIFIERS}元]"
_IN_TOTAL = r"(?:里面|里头|当中|之中|里|中)"
_PART_QUESTION_ZH = (
    # 24个创新联合体里，种业方向的有几个 / 67个平台中，锂电领域的有多少个
    re.compile(rf"{_STATED_COUNT}[^，,。？?！!]{{0,14}}{_IN_TOTAL}[,，]?\s*(?P<part>[^，,。？?！!里中]{{1,16}}?)"
               rf"的?(?:具体)?(?:共有|有|占|是|为)?{_HOW_MANY}"),
    # 4位获奖者中有几位是南大校友
    re.compile(rf"{_STATED_COUNT}[^，,。？?！!]{{0,20}}{_IN_TOTAL}[,，]?(?:共有|有)?{_HOW_MANY}[{_CLASSIFIERS}]?"
               r"(?:是|为|属于|来自|在)(?P<part>[^，,。？?！!]{1,16})"),
    # 共组建24个创新联合体，其中种业方向的有几个
    re.compile(rf"{_STATED_COUNT}[^。？?！!]{{0,20}}[,，]\s*其中(?P<part>[^，,。？?！!]{{1,16}}?)"
               rf"的?(?:具体)?(?:共有|有|占|是|为)?{_HOW_MANY}"),
)
_PART_QUESTION_EN = (
    # "Of the 49 partner units in the consortium, how many are universities?"
    re.compile(r"\b(?:of|among|out of)\s[^,?;]*?\b\d[\d,.]*\b[^,?;]*,\s*how many(?:\s+of (?:them|these|those))?\s+"
               r"(?:are|were|is|was|come|came|belong|fall)\s+(?P<part>[^?;]+)", re.IGNORECASE),
    # "How many of the 244 member units are universities?"
    re.compile(r"\bhow many of (?:the|its|their|these|those|all)\s[^?;]*?\b\d[\d,.]*\b[^?;]*?\s"
               r"(?:are|were|is|was|come|came|belong|fall)\s+(?P<part>[^?;]+)", re.IGNORECASE),
)
# The part's first content word names it ("种业方向" -> 种业, "in the seed industry" -> seed): in
# Chinese, jieba's nouns, distinguishing words (国家级), names and abbreviations, of two characters
# or more; in English, WordNet's nouns.
_PART_WORD_TAGS = ("n", "b", "j", "eng")


def asked_part(query: Query) -> tuple[str, ...]:
    """For a question asking how many of a stated total are of one part, the forms that name the
    part (in match form: Chinese words, an English word's Chinese renderings with the word itself);
    () for any other question, and for an English part word the dictionary renders only through
    glosses that contain it (as the counted-noun checks)."""
    if query.lang == "zh":
        parts = (m.group("part") for rule in _PART_QUESTION_ZH if (m := rule.search(query.match)))
        # the first reading whose part has a content word ("中有几位是女性" also reads as part "有")
        word = next((w.word for part in parts for w in posseg().cut(part)
                     if len(w.word) > 1 and w.flag.startswith(_PART_WORD_TAGS)), None)
        return (word,) if word else ()
    match = next((m for rule in _PART_QUESTION_EN if (m := rule.search(query.normalized))), None)
    if match is None:
        return ()
    words = re.findall(r"[a-z][a-z&'-]*", match.group("part").lower())
    # its first noun; not a participle before "by" ("led by universities": universities)
    word = next((w for w, after in zip(words, [*words[1:], ""])
                 if w not in STOPWORDS_EN and after != "by" and is_noun(w)), None)
    if word is None or not renders_directly(word):
        return ()
    renderings = _renderings(query, {word})
    # with no Chinese rendering to look for, the part cannot be found in Chinese text: not checked
    return (word, *dict.fromkeys(match_form(t) for t in renderings)) if renderings else ()


def part_uncounted(qtype: QuestionType, query: Query, best: Candidate) -> bool:
    """A question asking how many of a stated total are of one part (:func:`asked_part`), and no
    clause of the best sentence or its neighbours names the part with a figure the question lacks."""
    forms = asked_part(query)
    if not forms:
        return False
    return not any(any(form in clause for form in forms) and gives_new(qtype, clause, query.match)
                   for clause in _clauses_around(best))


# "Who is the chairman of X" / "X的董事长是谁": the question names an office, and a sentence that
# names no office (X is one of the firms that lead the consortia) does not say who holds it.
_OFFICES_ZH = ("董事长", "总经理", "经理", "总裁", "局长", "厅长", "主任", "书记", "院长", "校长", "市长", "省长",
               "县长", "部长", "处长", "主席", "总理", "总统", "负责人", "首席")
_OFFICE_EN = re.compile(r"\b(?:chairman|chairwoman|chair|director|head|heads|secretary|mayor|governor|president|"
                        r"minister|dean|principal|ceo|chief|manager|leader|leads)\b", re.IGNORECASE)


def asked_offices(qtype: QuestionType, query: Query) -> tuple[str, ...]:
    """For a person question naming an office, the Chinese words that name it: a Chinese
    question's office words; an English office word's dictionary translations, with every
    Chinese office word (the dictionary gives a few renderings of each)."""
    if qtype.kind != "person":
        return ()
    if query.lang == "zh":
        asked = tuple(office for office in _OFFICES_ZH if office in query.match)
        # 负责人, "the person in charge", is whatever office the answer names (厅长, 主任).
        return _OFFICES_ZH if "负责人" in asked else asked
    asked = {m.group(0).lower() for m in _OFFICE_EN.finditer(query.normalized)}
    if not asked:
        return ()
    translations = _renderings(query, asked)
    return (*_OFFICES_ZH, *translations)


def office_unnamed(qtype: QuestionType, query: Query, best: Candidate, index: Index) -> bool:
    """A person question naming an office, and neither the best sentence nor its neighbours name
    it, nor does the article give it to a person the best sentence names: an interview names its
    speaker's office once, in a heading ("——专访市科技局党组书记、局长代萍"), and then quotes
    "代萍:近年来…"."""
    offices = asked_offices(qtype, query)
    if not offices or any(office in text for office in offices for text in _around(best)):
        return False
    people = proper_names(best.match, PERSON_TAGS)
    if not people:
        return True
    article = index.match_text(best.sentence.doc_id).text
    held = re.compile(f"(?:{'|'.join(map(re.escape, offices))}).{{0,6}}?(?:{'|'.join(map(re.escape, people))})")
    return not held.search(article)


def paragraph_of(text: str, start: int, end: int) -> str:
    """The paragraph of ``text`` (one per line) holding the span ``start:end``."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    return text[first:last if last >= 0 else len(text)]


def name_unmentioned(query: Query, best: Candidate, index: Index) -> bool:
    """Like :func:`organisation_unmentioned`, for every Chinese proper name of the question: a
    person (雷丙旺), a place or company jieba tags (富美达), an organisation by its suffix. Those
    the collection mentions are looked for in the best sentence's paragraph and its article's
    title, also by a longer name they abbreviate and without an administrative suffix (甘肃省: 甘肃)."""
    known = [n for n in question_names(query) if index.mentions(n)] + _known_organisations(query, index)
    return bool(known) and not _named_around(known, best, index)


def _known_organisations(query: Query, index: Index) -> list[str]:
    """The question's organisations as the collection spells them: full names, else stems."""
    known = []
    for organisation in organisations(query.match):
        known += [f for f in organisation.full if index.mentions(f)] or [f for f in organisation.stems if index.mentions(f)]
    return known


def _named_around(names: list[str], best: Candidate, index: Index) -> bool:
    """Whether the best sentence's paragraph or its article's title names any of ``names``: as
    written, without an administrative suffix, by a short form, or abbreviated. A title in
    English ("Harvard_University" over a Chinese text) names what its dictionary renderings do (哈佛)."""
    article = index.match_text(best.sentence.doc_id)
    said = (paragraph_of(article.text, best.sentence.start, best.sentence.end) + "\n" + article.title + "\n"
            + title_in_chinese(index.article(best.sentence.doc_id).title))
    forms = lambda name: (name, ADMIN_SUFFIX.sub("", name) or name, *short_forms(name))  # noqa: E731
    return any(any(form in said for form in forms(name)) or abbreviated_in(name, said) for name in names)


@lru_cache(maxsize=4096)
def title_in_chinese(title: str) -> str:
    """The dictionary's renderings of a title's English words, one per line ("" for a Chinese title)."""
    if not _LATIN_WORD.search(title):
        return ""
    return "\n".join(match_form(t) for t in expand_english(title.replace("_", " ")))


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def question_names(query: Query) -> list[str]:
    """The Chinese proper names of a question (in match form): people, places, organisations; not
    the ordinary words jieba's tagger takes for names (古老, 抗议: CC-CEDICT lists them in lower case)."""
    return [name for name in proper_names(query.match, PERSON_PLACE_ORG_TAGS) if not is_ordinary_chinese_word(name)]


def organisation_unmentioned(query: Query, best: Candidate, index: Index) -> bool:
    """The question names an organisation the collection mentions (by its full name, or else by
    the name before its suffix: 富美达 for 富美达公司), and neither the best sentence's paragraph
    nor its article's title names it by any of those spellings, by a longer name it abbreviates
    (北重集团 for 内蒙古北方重工业集团有限公司), or a university by its short name (芝大 for 芝加哥大学).

    An organisation no article mentions is left out: it cannot tell paragraphs apart."""
    known = _known_organisations(query, index)
    return bool(known) and not _named_around(known, best, index)


# A decade, not a year: "the 1970s", "1970's", "1970年代".
_DECADE = re.compile(r"(?<!\d)(1[5-9]\d0|20\d0)(?:'?s\b|\s*年代)")


def asked_years(text: str) -> list[tuple[str, ...]]:
    """Each year the text names, as the forms an article mentions it by: the year itself, or
    for a decade any year in it and its short form ("the 1970s": 1970 … 1979, 70年代)."""
    decades = set(_DECADE.findall(text))
    return [tuple(str(int(y) + i) for i in range(10)) + (f"{y[2:]}年代",) if y in decades else (y,)
            for y in dict.fromkeys(YEAR.findall(text))]


def year_unmentioned(query: Query, best: Candidate, index: Index) -> bool:
    """The question names a year, and the best sentence's article mentions none of the years it
    names but is dated, or dates what it says, by other years.

    An article that names no year at all (a passage cut from a longer text, "the defence
    intercepted 24 passes") says nothing about which year it speaks of: absence is not a conflict."""
    forms = [form for year in asked_years(query.normalized) for form in year]
    if not forms:
        return False
    doc_id = best.sentence.doc_id
    article = index.match_text(doc_id)
    date = index.article(doc_id).date or ""
    # the article's own words and its date line, read the same way for the years asked and for any year
    said = f"{article.title}\n{article.text}\n{date[:4]}"
    return not any(f in said for f in forms) and bool(YEAR.search(said))


# -- checks on the best sentence, in the order they run ------------------------------------------

@dataclass(frozen=True)
class BestSentence:
    """What a check on the best sentence reads: the question, its type, the sentence (with its
    neighbours) and the index it came from (for titles, paragraphs and the known names)."""
    query: Query
    qtype: QuestionType
    best: Candidate
    index: Index
    # What the answer quotes of it (its clauses, a neighbour the quote joins) as a candidate with no
    # neighbours, when the figure checks are to read that alone; None: they read ``best``.
    shown: Candidate | None = None

    @property
    def figures(self) -> Candidate:
        """What the checks for an asked figure read (number, date, share, each, money, measure)."""
        return self.shown if self.shown is not None else self.best


# (the ``AnswerSettings`` field naming the languages a check is on for, the check). Each field's
# languages were chosen on dev data (benchmarks/answers.md, benchmarks/refusal_checks/<field>.md).
BEST_SENTENCE_CHECKS: tuple[tuple[str, Callable[[BestSentence], bool]], ...] = (
    ("counted_noun_langs", lambda s: counted_unnamed(s.qtype, s.best)),
    ("counted_figure_langs", lambda s: counted_uncounted(s.qtype, s.best, s.query.match)),
    ("year_gate_langs", lambda s: year_unmentioned(s.query, s.best, s.index)),
    ("type_gate_langs", lambda s: type_unsupplied(s.qtype, s.figures, s.query.match)),
    ("organisation_gate_langs", lambda s: organisation_unmentioned(s.query, s.best, s.index)),
    ("date_gate_langs", lambda s: date_unsupplied(s.qtype, s.figures, s.query.match)),
    ("share_gate_langs", lambda s: share_unsupplied(s.query, s.figures)),
    ("change_gate_langs", lambda s: change_unsupplied(s.query, s.figures)),
    ("each_gate_langs", lambda s: each_unsupplied(s.qtype, s.query, s.figures)),
    ("money_gate_langs", lambda s: money_unsupplied(s.qtype, s.query, s.figures)),
    ("measure_gate_langs", lambda s: measure_unsupplied(s.query, s.figures)),
    ("generic_measure_gate_langs", lambda s: generic_count_unsupplied(s.query, s.figures)),
    ("part_gate_langs", lambda s: part_uncounted(s.qtype, s.query, s.figures)),
    ("office_gate_langs", lambda s: office_unnamed(s.qtype, s.query, s.best, s.index)),
    ("name_gate_langs", lambda s: name_unmentioned(s.query, s.best, s.index)),
)


# The checks that find the sentence about something else (another year, another organisation
# or name) rather than short of what is asked: no other sentence of the same passages is
# tried in its place (``ExtractiveAnswerer.checked``).
TOPIC_CHECKS = frozenset({"year_gate_langs", "organisation_gate_langs", "name_gate_langs"})


def _refusing(sentence: BestSentence, settings: AnswerSettings) -> Iterator[str]:
    lang = sentence.query.lang
    return (field for field, refuses in BEST_SENTENCE_CHECKS if lang in getattr(settings, field) and refuses(sentence))


def refusing_checks(sentence: BestSentence, settings: AnswerSettings) -> list[str]:
    """The checks (their ``AnswerSettings`` fields) that ``settings`` turns on for the question's
    language and that refuse ``sentence``."""
    return list(_refusing(sentence, settings))


def best_sentence_refused(sentence: BestSentence, settings: AnswerSettings) -> bool:
    """Whether any check that ``settings`` turns on for the question's language refuses the
    sentence (the checks after the first that does are not run)."""
    return next(_refusing(sentence, settings), None) is not None
