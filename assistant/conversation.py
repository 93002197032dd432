"""Chat follow-ups made standalone: "那甘肃呢？" after "内蒙古如何登记创新联合体？".

With a chat model configured, the model rewrites the follow-up with the conversation
(``prompts/llm_condense.*.txt``). Without one, or when it fails, a rule does it: a short
message that only names a new subject ("那甘肃呢？", "and what about Gansu?", "2022年呢？")
takes the previous question and swaps that subject in for the place, organisation or year
it asked about (or adds it, when the previous question named none). Any other message is
taken as standalone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.entities import place_and_org_names
from assistant.text import detect_lang

# zh: an optional "so / and" opener, the subject, then "呢" or "怎么样"; short.
_ZH_FOLLOW_UP = re.compile(r"^(?:那么|那|还有|而且|而|另外)?\s*(?P<subject>.{1,12}?)\s*(?:呢|怎么样)\s*[？?]?$")
_ZH_OPENER_ONLY = re.compile(r"^(?:那么|那)\s*(?P<subject>.{1,8}?)\s*[？?]$")
# A subject that asks something itself ("为什么呢？", "那甘肃组建了几家？") is a question, not a new subject.
_ZH_ASKING = re.compile(r"几|多少|如何|怎么|为什么|什么|哪|是否|吗|谁|情况|具体|还有|且")
_EN_ASKING = re.compile(r"\b(?:how|why|what|when|where|who|which|whom|whose|many|much|did|does|do|is|are|was|were|"
                        r"can|could|will|would|should|has|have|had)\b", re.IGNORECASE)
_EN_FOLLOW_UP = re.compile(r"^(?:and\s+|but\s+|so\s+)?(?:what|how)\s+about\s+(?P<subject>.{1,60}?)\s*[?.!]*$", re.IGNORECASE)
_EN_AND = re.compile(r"^and\s+(?:in\s+|for\s+)?(?P<subject>[^?]{1,40}?)\s*\?$", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d{2}\s*年?")
_EN_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# A run of capitalised words (not the question word that opens the sentence): an English name.
_EN_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'-]*(?:\s+(?:of\s+|and\s+)?[A-Z][\w'-]*)*")


def follow_up_subject(question: str) -> str | None:
    """The new subject of a follow-up message, or None when the message stands on its own."""
    text = question.strip()
    for pattern in (_EN_FOLLOW_UP, _EN_AND, _ZH_FOLLOW_UP, _ZH_OPENER_ONLY):
        m = pattern.match(text)
        subject = m.group("subject").strip(" ，,") if m else ""
        if subject and not _ZH_ASKING.search(subject) and not _EN_ASKING.search(subject):
            return subject
    return None


def condense_by_rule(previous: str | None, question: str) -> str:
    """``question`` made standalone using the previous standalone question (see module doc)."""
    subject = follow_up_subject(question)
    if not previous or subject is None:
        return question.strip()
    previous = previous.strip()
    if detect_lang(previous) == "en":
        year = _EN_YEAR.search(subject)
        if year:
            if _EN_YEAR.search(previous):
                return _EN_YEAR.sub(year.group(), previous, count=1)
            return f"{previous.rstrip('?')} in {year.group()}?"
        names = [m.group() for m in _EN_NAME.finditer(previous)]
        if names:
            return previous.replace(names[0], subject, 1)
        return f"{previous.rstrip('?')} in {subject}?"
    if _YEAR.fullmatch(subject) or _YEAR.match(subject):
        if _YEAR.search(previous):
            return _YEAR.sub(_YEAR.match(subject).group(), previous, count=1)
        return subject + previous
    names = place_and_org_names(previous)
    if names:
        return previous.replace(names[0], subject, 1)
    return subject + previous


def history_lines(turns: list[tuple[str, str]], max_turns: int = 3) -> str:
    """The last turns as "user: … / assistant: …" lines for the condensing prompt."""
    lines = []
    for question, answer in turns[-max_turns:]:
        lines.append(f"user: {question}")
        lines.append(f"assistant: {answer[:300]}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Turn:
    """One exchange of a chat: what the user typed, the standalone question answered, the answer text."""

    question: str
    standalone: str
    answer: str
