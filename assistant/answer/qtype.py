"""What a question asks for (its answer type), and which sentences carry that type.

A question is typed from its wording alone, in Chinese or English:

    number  多少 / 几家 / 多大 / 比例 / how many / how much / what share
    date    何时 / 哪一年 / 什么时候 / when / what year
    person  谁 / 哪位 / who / whose
    place   哪里 / 在哪 / where / which city
    reason  为什么 / 为何 / why / for what purpose
    method  如何 / 怎样 / 通过什么 / how does / in what way
    list    哪些 / 哪几 / which … (plural)
    definition  什么是 / 指什么 / what does X mean / what is X
    entity  什么 / 哪个 / which / what (a named thing)
    other   none of these

The same types are detected in article sentences (a number, a date, a person's name or
title, a place, an enumeration, a reason or a means), so the answerer can prefer the
sentence that holds what was asked. The cue words are ordinary Chinese and English
grammar, not vocabulary of any particular collection; how much each cue counts is learned
(``assistant/answer/selector.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.entities import PERSON_TAGS
from assistant.query import Query
from assistant.wordnet import (is_inflected_verb, is_mostly_verb_form, is_noun, is_plural_noun, is_verb,
                               noun_answer_type)

_ZH_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("date", re.compile(r"什么时候|何时|哪一?年|哪几年|几月|哪一?天|几号|哪个月|什么时间|何年|哪个年代|什么年代|年份|多少年前|哪一时期|何日")),
    ("number", re.compile(r"多少|(?<!哪)几(?!乎)[个家项名位支所件条座种批次倍万亿千百十类人岁点成度]|几(?=[？?]|$)|多大|多高|多长|多远|"
                          r"多久|多重|多快|多深|多宽|比例|比重|百分之|占比|第几|金额|数额|总额|数量|规模有?多")),
    ("person", re.compile(r"谁|哪位|哪个人|什么人|哪些人|叫什么名字|何人|哪一位")),
    ("place", re.compile(r"哪里|哪儿|在哪|什么地方|何处|何地|哪个(?:国家|城市|省|地区|地方|县|区)|哪座|哪国|哪个洲")),
    ("reason", re.compile(r"为什么|为何|什么原因|原因是|为了什么|目的是什么|何故|缘何|为啥|出于什么")),
    ("method", re.compile(r"如何|怎样|怎么|什么方式|什么办法|什么途径|哪些措施|什么措施|什么举措|哪些举措|通过什么|"
                          r"采取了?什么|用什么方法|什么机制|什么路径|哪些做法")),
    ("list", re.compile(r"哪些|哪几|有几类|包括什么|包括哪")),
    ("definition", re.compile(r"什么是|指什么|是指什么|什么意思|含义|何谓|是什么意思|是啥")),
    ("entity", re.compile(r"什么|哪个|哪家|哪所|哪一|哪部|何种|哪种|哪条|哪项|哪本|哪支|啥")),
)

_EN_RULES: tuple[tuple[str, re.Pattern], ...] = (
    # "when" asks only as a question word (first, or before its verb, or last): in "how many
    # seconds were left when …" it is a conjunction, and the question asks for a number.
    # "When X happens, what is it called?": a "when" clause closed by a comma before another
    # question word is a condition, and that word asks.
    ("date", re.compile(r"^\W*when\b(?![^,?]*,\s*(?:what|which|who|whom|whose|how|where|why)\b)|"
                        r"\bwhen (?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|"
                        r"should|might|must)\b|\bwhen\W*$|"
                        r"\b(?:what (?:year|date|time|day|month|century|decade|period)|which (?:year|date|month|"
                        r"century|decade|period)|since when|how long ago|in what year)\b|"
                        # a keyword query names what it wants last: "North Heavy Industries founding year"
                        r"\b(?:year|date)\W*$")),
    ("number", re.compile(r"\b(?:how (?:many|much|large|big|long|far|old|high|tall|often|fast|deep|wide|heavy)|"
                          r"what (?:percentage|percent|share|proportion|fraction|number|amount|total|size|sum|ratio|rate)|"
                          r"(?:the|what) (?:number|amount) of|"
                          # "what was the total funding": "total" quantifies what follows
                          r"what (?:is|was|are|were) (?:the )?total)\b|"
                          # a keyword query names what it wants last: "Suining projects count"
                          r"\b(?:count|number|total|amount|percentage|share|proportion|ratio)\W*$")),
    ("person", re.compile(r"\b(?:who|whom|whose|which (?:person|people|official|leader|scientist|author|player|king|"
                          r"president|officials|leaders))\b")),
    ("place", re.compile(r"\b(?:where|which (?:country|city|province|region|place|state|town|county|continent|area|"
                         r"countries|cities|provinces|regions|places)|what (?:country|city|province|region|place))\b")),
    ("reason", re.compile(r"\b(?:why|what (?:is|was|are|were) the (?:reason|purpose|cause|aim|goal|motivation)s?|"
                          r"for what (?:purpose|reason)|what caused|what led to)\b")),
    ("method", re.compile(r"\b(?:how (?:do|does|did|can|could|will|would|should|is|are|was|were|has|have|must)|"
                          r"in what way|by what means|what (?:measures|steps|mechanisms?|approach|methods?))\b")),
    ("definition", re.compile(r"\b(?:what (?:does|do|did) .{1,40} mean|what is meant by|define|meaning of|"
                              r"what is (?:an? |the )?\S+\s*\??$)")),
    ("list", re.compile(r"\b(?:which|what) (?:(?:two|three|four|five|several|other|main|key) )?(?!(?:is|was|has|does|as|this|its)\b)"
                        r"(?P<plural>\w{2,}[^s\W]s)\b|\blist\b|\bname the\b|\bwhat are\b|\bwhich are\b")),
    ("entity", re.compile(r"\b(?:what|which)\b")),
)

# "多少 / 几 + measure word + X": X is the noun right after the measure word.
_COUNT_ZH = re.compile(r"(?:多少|几)(?:个|家|项|名|位|支|所|件|条|座|种|批)([\u4e00-\u9fff]{2,4}?)(?:[？?，,。]|$|是|有|在)")
# "how many X" up to the verb, preposition or comma that ends the noun phrase.
_NOUN_PHRASE_WORDS = (r"((?:(?!(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|of|from|in|at|"
                      r"for|on|with|by|that|which|and|per|to|into|onto|over|under|across|among|between|about|"
                      r"around|within|without|through|during|since|after|before|than|as|via|like)(?![\w\-]))"
                      # a possessive does not end it: "how many Gansu's enterprises"; nor does an
                      # ampersand inside a word: "how many joint R&D projects", "S&T"
                      r"[A-Za-z][\w\-&]*(?:['’]s)?\s*)+)")
_COUNT_EN = re.compile(r"\bhow many\s+" + _NOUN_PHRASE_WORDS, re.IGNORECASE)
# "… university and institute talent teams": the words after an "and" that joins modifiers.
_AND_MORE = re.compile(r"and\s+" + _NOUN_PHRASE_WORDS, re.IGNORECASE)


@dataclass(frozen=True)
class QuestionType:
    kind: str  # number, date, person, place, reason, method, list, definition, entity or other
    # For "how many X": X as the question wrote it, and its spellings in match form (Chinese).
    counted: str = ""
    counted_forms: tuple[str, ...] = ()
    share: bool = False  # it asks for a share or a rate (占比, what percentage): only a share answers it


def classify(query: Query) -> QuestionType:
    """The answer type of a parsed question (and, for "how many X", the X)."""
    english = " ".join(query.normalized.lower().split())
    kind = "other"
    if query.lang == "zh":  # a Chinese question may still be worded in English ("What does 揭榜挂帅 mean?")
        kind = next((k for k, rule in _ZH_RULES if rule.search(query.normalized.lower())), "other")
    if kind == "other":
        kind = _english_kind(english)
        head = _asked_noun(english) if kind in ("entity", "other", "list") else None
        # A plural ("which cities") still asks for a list; "which Panthers player" does not.
        if head and not (kind == "list" and is_plural_noun(head)):
            kind = noun_answer_type(head) or kind
    if kind == "other" and query.lang != "zh":  # an English question asking in Chinese ("Gansu 的 consortia 有几家?")
        kind = next((k for k, rule in _ZH_RULES if rule.search(query.normalized.lower())), "other")
    counted, forms = _counted(query)
    return QuestionType(kind, counted, forms, asks_share(query))


def _english_kind(english: str) -> str:
    """The kind of the first English rule that matches, in their order, except that a "who" or
    "when" after the question's first question word is a relative clause's ("What did the man who
    …", "What was the last Doctor Who episode …"), and does not ask."""
    found = [(kind, m.start()) for kind, rule in _EN_RULES if (m := _first_asking(kind, rule, english))]
    first = min((at for _, at in found), default=0)
    return next((kind for kind, at in found if at == first or kind not in ("person", "date")), "other")


def _first_asking(kind: str, rule: re.Pattern, english: str) -> re.Match | None:
    """The rule's first match, except that a list is not asked by a verb whose subject is "what"
    ("what makes …", "what happens …", "what includes …"), though it ends in "s" as a plural does."""
    return next((m for m in rule.finditer(english)
                 if kind != "list" or not m.group("plural") or not is_mostly_verb_form(m.group("plural"))
                 or _AUXILIARY_NEXT.match(english, m.end())), None)


# After "what/which <word in -s>", an auxiliary opens the clause the plural noun is the object of:
# "which measures did Lanzhou adopt", "what challenges do SMEs face" (a verb would take an object).
_AUXILIARY_NEXT = re.compile(r"\s+(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|should|"
                             r"may|might|must|shall)\b")


def asked_words(query: Query) -> frozenset[str]:
    """The English words of the question's date and number cues ("what year", "what share", "how
    many"): they say what kind of answer is asked, not what it is about, so they are no terms."""
    english = " ".join(query.normalized.lower().split())
    rules = [rule for kind, rule in _EN_RULES if kind in ("date", "number")]
    return frozenset(word for rule in rules for m in rule.finditer(english) for word in m.group(0).split())


# "what/which <noun phrase>", and "the name of <noun phrase>", where the noun phrase names the answer's kind.
_ASKED_NOUN_PHRASE = re.compile(r"\b(?:what|which|name of(?: the| an?)?)\s+")
# Words that end the noun phrase after "what/which" (its verb, a preposition, a clause).
_ENDS_NOUN_PHRASE = frozenset(
    "is are was were be been do does did has have had can could will would should may might must shall "
    "of in on at to for from by with about as into than that which who whom whose when where why how "
    "and or the a an this these those it its his her their us them him me you we they she he i".split())


def _asked_noun(english: str) -> str | None:
    """The head noun after "what/which" (or "the name of") whose kind the question asks for:
    "what famous author …" -> "author", "which Panthers player got …" -> "player".

    The head is the last noun (WordNet's, ``assistant.wordnet``) among the words
    before the phrase's verb (an auxiliary, a word with a verb's ending after the first noun:
    "which district hosts …", or a verb after a plural noun: "what principles guide …") or
    preposition; the first phrase with a head wins.
    """
    for match in _ASKED_NOUN_PHRASE.finditer(english):
        head = None
        for raw in english[match.end():].split()[:4]:
            word = re.sub(r"(?:'s|’s|')$", "", raw.strip("?,.;:!\"()"))
            # A one-letter word is chat shorthand ("what r the …": are), never the noun asked about.
            if not word.isalpha() or len(word) < 2 or word in _ENDS_NOUN_PHRASE or (head and is_inflected_verb(word)):
                break
            # A verb agreeing with a plural head has no ending ("what principles guide …",
            # "which enterprises lead …"); English compounds rarely take a plural modifier.
            if head and is_plural_noun(head) and is_verb(word):
                break
            if is_noun(word):
                head = word
            elif head:
                break
        if head:
            return head
    return None


def _counted(query: Query) -> tuple[str, tuple[str, ...]]:
    if query.lang == "zh":
        match = _COUNT_ZH.search(query.normalized.lower())
        return (match.group(1), (match.group(1),)) if match else ("", ())
    match = _COUNT_EN.search(query.normalized)
    if not match:
        return "", ()
    phrase = match.group(1).lower().split()
    rest = query.normalized[match.end():]
    # A singular before "and" modifies what is counted ("how many university and institute
    # teams"): the phrase goes on to the first plural noun after the "and", if there is one.
    more = _AND_MORE.match(rest)
    if phrase and not is_plural_noun(phrase[-1]) and more:
        after = more.group(1).lower().split()
        plural = next((i for i, word in enumerate(after) if is_plural_noun(word)), None)
        if plural is not None:
            phrase += after[:plural + 1]
    groups = [(src, terms) for src, terms in query.expansion_groups if src.lower().split()[-1] in phrase]
    if not groups:
        return "", ()
    source, translations = groups[-1]  # the head noun closes the noun phrase
    return source, tuple(translations)


# ---------------------------------------------------------------- what a sentence holds

_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_MEASURE = "个家项名位支所件条座种批次倍人元岁台辆套只亩吨平方米公里千克年月天"
_SENTENCE_TYPES: dict[str, re.Pattern] = {
    "number": re.compile(rf"\d|[{_NUMERAL}]+[{_MEASURE}]|百分之|[{_NUMERAL}]成|%"),
    "date": re.compile(rf"(?:\d{{1,4}}|[{_NUMERAL}]{{1,4}})\s*(?:年|月|日|号|世纪|年代)|\b1[0-9]{{3}}\b|\b20[0-9]{{2}}\b|"
                       r"今年|去年|明年|前年|近年|当年|同年|此前|目前|春季|夏季|秋季|冬季|上旬|中旬|下旬|上半年|下半年|期间"),
    "person": re.compile(r"书记|局长|厅长|主任|院长|处长|部长|市长|省长|县长|主席|总理|总统|教授|院士|博士|研究员|"
                         r"董事长|总经理|经理|首席|先生|女士|国王|皇帝|王子|公主|将军|导演|作者|创始人|负责人|专家|"
                         r"选手|球员|教练|总裁|校长|领袖|大臣|议员|歌手|演员"),
    "place": re.compile(r"[\u4e00-\u9fff](?:省|市|县|区|州|国|镇|村|岛|洲|湾|港|城)(?![长委级])|位于|地处|坐落"),
    "list": re.compile(r"、.*、|[、,，].*等"),
    "reason": re.compile(r"因为|由于|为了|因此|所以|旨在|目的|原因|导致|致使|以便|从而|为此|以期|是因|使得|造成|关键是"),
    "method": re.compile(r"通过|采取|采用|方式|办法|机制|措施|途径|依托|利用|建立|推动|实施|开展|实行|模式|手段|方法|步骤|以.{1,12}为"),
    "definition": re.compile(r"是指|指的是|即|称为|是一种|是一个|是一类|意为|又称|简称|也就是|被称为|意思是|定义"),
}
# Types a sentence can carry that a name tagger sees better than a pattern.
_NAME_TAGS = {"person": PERSON_TAGS, "place": {"ns", "nsf"}, "entity": {"nt", "nz", "nr", "ns", "eng"}}


@lru_cache(maxsize=20_000)
def type_evidence(match_text: str) -> tuple[tuple[str, str], ...]:
    """What answer types a sentence (in match form) can supply: (type, the words showing it)."""
    found = [(kind, m.group(0)) for kind, pattern in _SENTENCE_TYPES.items() for m in pattern.finditer(match_text)]
    found += [("entity", surface) for kind, surface in found if kind == "number"]
    for word, flag in _posseg_flags(match_text):
        found += [(kind, word) for kind, wanted in _NAME_TAGS.items() if flag in wanted]
    return tuple(dict.fromkeys(found))


def _posseg_flags(text: str) -> list[tuple[str, str]]:
    from assistant.entities import posseg

    return [(w.word, w.flag) for w in posseg().cut(text)]


def supplies(qtype: QuestionType, types: frozenset[str]) -> bool:
    """Whether a sentence of ``types`` can hold the answer type the question asks for."""
    if qtype.kind == "list":
        return "list" in types or "entity" in types
    if qtype.kind in ("other", "entity"):
        return True
    return qtype.kind in types


def supplies_new(qtype: QuestionType, evidence: tuple[tuple[str, str], ...], question_match: str) -> bool:
    """Like :func:`supplies`, counting only evidence the question does not already contain:
    a sentence naming the 主席 the question asks about has not yet named the person."""
    fresh = frozenset(kind for kind, surface in evidence if surface not in question_match)
    return supplies(qtype, fresh)


def gives_new(qtype: QuestionType, match_text: str, question_match: str) -> bool:
    """Whether ``match_text`` holds the asked kind of thing beyond what the question already names."""
    return supplies_new(qtype, type_evidence(match_text), question_match)


# A question asking for a year (not a month, a season or "when"): only a year answers it.
_ASKS_YEAR = re.compile(r"哪一?年|哪几年|何年|年份|\b(?:what|which) year\b|\byear\W*$")
# A year: a figure before 年 (not 年代, a decade), a four-digit year, or a year named relative to
# the article's (今年, 去年 …); not 目前, 此前, 近年, a season, a month or a day alone.
_YEAR = re.compile(rf"(?:\d{{1,4}}|[{_NUMERAL}]{{1,4}})\s*年(?!代)|\b1[0-9]{{3}}\b|\b20[0-9]{{2}}\b|今年|去年|明年|前年|当年|同年")


def asks_year(question_match: str) -> bool:
    """Whether a question (match form) asks for a year: 哪一年, 年份, "what year"."""
    return bool(_ASKS_YEAR.search(question_match))


def gives_new_year(match_text: str, question_match: str) -> bool:
    """Whether ``match_text`` names a year the question does not already name."""
    return any(m.group(0) not in question_match for m in _YEAR.finditer(match_text))


# A date ("2022年5月", "五月", "19世纪") places a figure in time; it is not the quantity a number
# question asks for, unless the question asks for a length of time (多少年, how many years).
_DATE_FIGURE = re.compile(rf"(?:\d{{1,4}}|[{_NUMERAL}]{{1,4}})\s*(?:年代|年|月|日|号|世纪)")
_ASKS_DURATION = re.compile(r"(?:多少|几)个?(?:年|月|天|日|周|星期|小时|分钟|秒|世纪)|多久|多长时间|"
                            r"\bhow (?:many|much) (?:years|months|days|weeks|hours|minutes|seconds|centuries|time)\b|"
                            r"\bhow long\b")


def without_dates(match_text: str, question_match: str) -> str:
    """``match_text`` with its dates blanked, for a question that does not ask for a length of time."""
    if _ASKS_DURATION.search(question_match):
        return match_text
    return _DATE_FIGURE.sub(lambda m: " " * len(m.group(0)), match_text)


# A question asking for a share or a rate: the answer is a percentage, a 成 or a multiple, and a
# sentence giving only absolute figures does not answer it.
# A rate of change is one such rate ("比上年增长了百分之几", "year-on-year growth rate").
_CHANGE_ZH = r"增幅|增速|增长率|降幅|同比增长了?多少|增长了?百分之"
_CHANGE_EN = r"growth rate|rate of (?:growth|increase)|(?:grow|grew|increase|increased|rise|rose|fall|fell) by how much|" \
             r"year[- ]on[- ]year"
_SHARE_QUESTION = re.compile(rf"占比|比例|比重|百分之几|百分比|几成|{_CHANGE_ZH}|"
                             rf"\b(?:percentage|percent|share of|what share|proportion|{_CHANGE_EN})\b", re.IGNORECASE)
_CHANGE_QUESTION = re.compile(rf"{_CHANGE_ZH}|\b(?:{_CHANGE_EN})\b", re.IGNORECASE)
_SHARE = re.compile(r"\d+(?:\.\d+)?\s*%|百分之[零〇一二两三四五六七八九十百点]+|[一二三四五六七八九十]成|"
                    r"\d+(?:\.\d+)?\s*倍|[一两二三四五六七八九十]+倍|"
                    # a fraction is a share too: 三分之一, 3分之1, 一半, 半数, 过半
                    r"(?:\d+|[一二三四五六七八九十百千万]+)\s*分之\s*(?:\d+|[一二三四五六七八九十]+)|一半|半数|过半")


def asks_share(query: Query) -> bool:
    """Whether the question asks for a share or a rate (占比, 增速, what percentage)."""
    return bool(_SHARE_QUESTION.search(query.normalized))


def asks_change(query: Query) -> bool:
    """Whether the question asks a rate of change (增幅, 增长了百分之几, growth rate, year on year)."""
    return bool(_CHANGE_QUESTION.search(query.normalized))


def gives_share(match_text: str, question_match: str) -> bool:
    """Whether ``match_text`` holds a share (a percentage, 成, multiple or fraction) the question does not name."""
    return any(m.group(0) not in question_match for m in _SHARE.finditer(match_text))


def is_typed(qtype: QuestionType) -> bool:
    """Whether the question asks for a specific kind of thing (so a sentence can lack it)."""
    return qtype.kind not in ("other", "entity")
