"""When not to answer.

The grounds, checked in this order:

1. The input is not a question about the collection: an instruction to the assistant
   ("ignore previous instructions …", "print your system prompt", an SQL fragment), small
   talk (greetings, the weather, a joke, questions about the assistant itself), talk with
   the assistant in wordings no pattern knows (a model over the question's vector,
   ``smalltalk_model.py``), or text none of whose words occur in the collection (keyboard mash).
2. The question names a place or organisation no article mentions (a question about
   Guangdong gets no answer about Gansu). Names are compared in match form, so 遂寧市 finds 遂宁市.
3. No candidate sentence is probable enough: the selector's calibrated probability of the
   best sentence is below the threshold chosen on the dev split.
4. A "how many X" question whose best sentence, with its neighbours, never names X: a count
   of something else is not the answer.
5. A question naming a year (or a decade) that the best sentence's article never mentions (in
   its text, its title or its date), while the article names other years: a figure for another
   year is not the answer.
6. A question asking for a number whose best sentence, with its neighbours, holds none the
   question does not already name: a sentence on the topic that never states the figure ("how
   large is the fund?" → "a fund will be set up") is not an answer.

Whether checks 4 to 6 are on, per question language, was chosen on dev data.
"""

from __future__ import annotations

import re

from assistant.answer.candidates import Candidate
from assistant.answer.features import YEAR
from assistant.answer.noun_class import names_counted_things
from assistant.answer.qtype import QuestionType, gives_new
from assistant.answer.terms import Term
from assistant.query import Query
from assistant.index import Index
from assistant.text import match_form

# Addressed to the assistant rather than asking about documents: prompt-injection phrasing,
# role play, requests for its own configuration, code to execute.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|above|previous|everything)\b|"
    r"\bsystem prompt\b|\byou are (?:now|a|an)\b|\bact as\b|\bpretend\b|\bjailbreak\b|"
    r"\b(?:drop|truncate|delete from|insert into|alter)\s+table\b|\bselect\b.+\bfrom\b.+;|;\s*--|<\s*script|"
    r"忽略.{0,12}(?:指令|指示|提示|要求|规则|说明|以上|之前|前面)|系统提示|提示词|你现在是|"
    r"(?:你|请你?)(?:来|现在)?扮演|假装你",  # role play addressed to the assistant, not "X在剧中扮演一名…" or "扮演…角色"
    re.IGNORECASE)


# Conversation rather than a question about documents: asking about the weather, for a
# joke, or about the assistant itself is small talk whatever else the text says...
_SMALL_TALK = re.compile(
    r"天气(?:怎么样|如何|好吗|好不好)|会下雨吗|讲个笑话|说个笑话|你是谁|你叫什么|你是什么|你能做什么|你会做什么|"
    r"\b(?:what(?:'s| is) the weather|how is the weather|weather like|tell me a joke|who are you|what are you|"
    r"what can you do|how are you)\b",
    re.IGNORECASE)
# ... while a greeting or thanks is small talk only when little else is said ("Hey, how many
# consortia …?" is a question).
_GREETING = re.compile(r"你好|您好|哈喽|嗨|早上好|晚上好|谢谢|多谢|再见|拜拜|"
                       r"\b(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|bye|goodbye)\b",
                       re.IGNORECASE)
_CONTENT = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}")


def small_talk(query: Query) -> bool:
    """Whether the text is conversation: the weather, a joke, the assistant itself, or a bare greeting."""
    text = query.normalized  # Simplified, half-width: 天氣怎麼樣 reads as 天气怎么样
    if _SMALL_TALK.search(text):
        return True
    rest = _GREETING.sub(" ", text)
    return rest != text and len(_CONTENT.findall(rest)) < 3


def instruction(query: Query) -> bool:
    """Whether the text instructs the assistant instead of asking about the articles."""
    return bool(_INSTRUCTION.search(query.normalized))


def off_collection(terms: list[Term]) -> bool:
    """No word of the question occurs anywhere in the collection."""
    return not terms


def missing_names(query: Query, index: Index) -> list[str]:
    """Names of the question, reliably spelled, that no article mentions, as the question wrote them."""
    return [n.label for n in query.names
            if n.spelled_reliably and not any(index.mentions(match_form(v)) for v in n.variants)]


def place_articles(query: Query, index: Index, doc_ids: set[str]) -> dict[str, set[str]]:
    """For each place the question names: which of ``doc_ids`` are about it (mention it)."""
    out: dict[str, set[str]] = {}
    for name in query.names:
        if not name.is_place or not name.spelled_reliably:
            continue
        forms = [match_form(v) for v in name.variants]
        out[name.label] = {d for d in doc_ids
                           if any(f in index.match_text(d).text or f in index.match_text(d).title for f in forms)}
    return out


def counted_unnamed(qtype: QuestionType, best: Candidate) -> bool:
    """A "how many X" question, and neither the best sentence nor its neighbours name X.

    An English X that Chinese counts with a measure word ("how many times / points / seconds")
    is not looked for: the answer says 两次, 308分, 17秒 and never translates X."""
    if not qtype.counted_forms:
        return False
    words = qtype.counted.split()
    if words and words[-1].isascii() and not names_counted_things(words[-1]):
        return False
    around = f"{best.before} {best.match} {best.after}"
    return not any(form in around for form in qtype.counted_forms)


# The types a sentence pattern sees reliably enough to refuse for their absence: a figure. A
# person, place or date is often given without the pattern's cues (业主, 律师 answer "who";
# a clause answers "when …"): on the public training questions and the dev split, checking them
# refused 21 English and 73 Chinese answerable questions, checking numbers 4 and 6 (issue 6).
_CHECKED_TYPES = ("number",)


def type_unsupplied(qtype: QuestionType, best: Candidate, question_match: str) -> bool:
    """The question asks for a number, and neither the best sentence nor its neighbours hold one
    that the question (in match form) does not already contain."""
    if qtype.kind not in _CHECKED_TYPES:
        return False
    around = (text for text in (best.before, best.match, best.after) if text)
    return not any(gives_new(qtype, text, question_match) for text in around)


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
