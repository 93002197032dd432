"""Text utilities shared by indexing and querying, so both sides tokenise identically.

- ``to_simplified``: Traditional -> Simplified Chinese (OpenCC ``t2s``), so a Traditional
  question finds Simplified text; length-preserving, so offsets carry over.
- ``match_form``: simplified, half-width, lower-cased: the single form in which questions
  and articles are compared (same length as the input).
- ``normalize_width``: full-width ASCII (Ａ１（) -> half-width, lower-cased.
- ``tokenize_zh``: lexical tokens for BM25 (jieba words, numbers and English words kept,
  punctuation and a small stopword list dropped).
- ``detect_lang``: "zh" or "en".

jieba and OpenCC are initialised lazily, once per process (``functools.cache``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

import jieba
import opencc

# Full-width ASCII block U+FF01..U+FF5E maps onto U+0021..U+007E; U+3000 is the ideographic space.
_FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: ord(" ")}

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CJK_WORD = re.compile(f"^[{_CJK}]+$")
# A token is kept only if it has a letter, digit or CJK character; its edges are trimmed of
# punctuation, so jieba's "17.73%" becomes "17.73" (the number stays one token).
_HAS_CONTENT = re.compile(f"[0-9a-z{_CJK}]")
_EDGE_PUNCT = re.compile(f"^[^0-9a-z{_CJK}]+|[^0-9a-z{_CJK}]+$")

# Function words that carry no topic. Deliberately small: BM25's IDF already discounts
# common words, this only removes the ones that are pure glue. Question words are included
# because they occur in questions, not in the passages that answer them.
STOPWORDS_ZH = frozenset(
    "的 地 得 了 着 过 是 在 和 与 及 或 而 并 且 也 就 都 又 把 被 对 从 向 于 以 之 其 这 那 "
    "该 此 个 吗 呢 吧 啊 呀 么 "
    "什么 哪 哪个 哪些 哪里 多少 怎么 怎样 如何 为什么 谁 几".split()
)
# "it" and "us" are kept on purpose: lower-cased they are also IT and US.
STOPWORDS_EN = frozenset(
    "a an the of to in on at by for with from as and or but nor is are was were be been being "
    "am do does did done what which who whom whose when where why how that this these those "
    "its there their they them he she his her him i you we our your my me not no can could "
    "would should will shall may might must has have had than then so if about into "
    "s t".split()
)
STOPWORDS = STOPWORDS_ZH | STOPWORDS_EN

# Bigrams won on CMRC2018 and on expanded English questions (benchmarks/query_expansion.md),
# and let 甘肃 (a query word or a dictionary translation) match the index word 甘肃省.
DEFAULT_BIGRAMS = True


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _jieba() -> jieba.Tokenizer:
    """The default jieba tokenizer, initialised once with its start-up log silenced."""
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt


def to_simplified(text: str) -> str:
    """Traditional Chinese -> Simplified (OpenCC t2s), character for character.

    The result always has the same length as ``text``, so an offset into the simplified form
    is the same offset into the original: quotes found on the simplified form are cut from the
    stored text unchanged. OpenCC's phrase tables keep lengths on every text measured (the
    corpus, CMRC and XQuAD, both directions); a line where they would not is converted one
    character at a time instead.
    """
    if not _CJK_CHAR.search(text):
        return text
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_simplified_line(line) for line in text.splitlines(keepends=True))


def _simplified_line(line: str) -> str:
    converted = _t2s().convert(line)
    if len(converted) == len(line):
        return converted
    chars = [_t2s().convert(ch) for ch in line]
    return "".join(c if len(c) == 1 else ch for c, ch in zip(chars, line))


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation -> their half-width forms (case kept)."""
    return text.translate(_FULLWIDTH_TO_ASCII)


_ACCENTED_LATIN = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")


def without_accents(text: str) -> str:
    """Latin letters without their accents: pinyin's tone marks ("Nèi Měnggǔ" -> "Nei Menggu"),
    umlauts ("Temüjin" -> "Temujin"); Chinese characters and punctuation untouched. The
    dictionary and the pinyin tables spell without accents."""
    def plain(m: re.Match) -> str:
        decomposed = unicodedata.normalize("NFD", m.group(0))
        return "".join(c for c in decomposed if not unicodedata.combining(c)) or m.group(0)

    return _ACCENTED_LATIN.sub(plain, text)


def normalize_width(text: str) -> str:
    """Full-width ASCII -> half-width, then lower-case.

    Only the full-width ASCII block is folded (not full NFKC), so Chinese punctuation such
    as 、。《》 keeps its meaning and characters like ½ are left alone.
    """
    return to_halfwidth(text).lower()


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c := ch.lower()) == 1 else ch for ch in text)  # "İ".lower() is two characters


def match_form(text: str) -> str:
    """The one form in which question text and article text are compared.

    Simplified script, half-width ASCII, lower case; always the same length as ``text``, so
    a span found in ``match_form(text)`` is the same span of ``text``. The index stores this
    form of every article (``Index.match_text``); it is never recomputed per question.
    """
    return _lower_same_length(to_halfwidth(to_simplified(text)))


def dictionary_words() -> list[str]:
    """Every word of jieba's dictionary (the words the lexical index is cut into)."""
    return [word for word, frequency in _jieba().FREQ.items() if frequency]


def word_frequency(word: str) -> int:
    """How often ``word`` occurs in jieba's dictionary corpus (0 if it is not a word there)."""
    return _jieba().FREQ.get(word) or 0


def _char_bigrams(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)]


def tokenize_zh(text: str, bigrams: bool = DEFAULT_BIGRAMS) -> list[str]:
    """Lexical tokens for BM25: jieba words of the simplified, width-normalised, lower-cased text.

    Numbers stay whole ("17.73"), English words are kept lower-cased, punctuation, whitespace
    and stopwords are dropped. With ``bigrams`` every CJK word of 3+ characters is followed by
    its character bigrams, so 甘肃省 also yields 甘肃 / 肃省 (partial matches).
    """
    tokens: list[str] = []
    for raw in _jieba().lcut(match_form(text)):
        word = _EDGE_PUNCT.sub("", raw)
        if not word or word in STOPWORDS or not _HAS_CONTENT.search(word):
            continue
        tokens.append(word)
        if bigrams and len(word) >= 3 and _CJK_WORD.match(word):
            tokens.extend(_char_bigrams(word))
    return tokens


def detect_lang(text: str) -> str:
    """"zh" when CJK characters are a meaningful share of the text, else "en".

    One CJK character carries roughly as much as three Latin letters, so a text is Chinese
    when its CJK characters make up at least a quarter of its CJK + Latin letters:
    "What is 揭榜挂帅?" is "zh", "Tell me about 揭榜挂帅 in Gansu province" is "en".
    Text with neither (digits, punctuation) is "en".
    """
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(to_halfwidth(text)))
    return "zh" if cjk and cjk * 4 >= cjk + latin else "en"
