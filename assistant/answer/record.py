"""Questions about an article itself: who wrote it, when and where it ran, who edited it.

The cleaner reads an article's record (``Article.author``, ``date``, ``source``, ``editor``) off
its header lines ("21-08-26 08:37 来源:中国甘肃网-甘肃日报 编辑:张玉芳", a byline) and takes those
lines out of the body, so no passage holds them and sentence selection cannot find them. A
question asking for them is answered from the record instead, cited to it (a citation of kind
``"record"``), and, when it asks who the author is or what post they hold, with the body's
author note quoted as any passage is ("作者为省委党校…院长、教授", "（记者 华静）").

What is asked is read from the question's wording alone: the ordinary ways of asking for a news
article's byline, date, outlet or editor, in Chinese and English. The article is the one whose
recorded author the question writes; else, when the question calls what it asks about an article
(文章, 这篇, "piece"), one whose title it quotes, or the first retrieved. "伏尔泰的朋友们是谁写的" and
"《越南亡国史》的作者是谁" ask about a book (a title names the subject too: a Wikipedia article is
titled by its subject), and are left to sentence selection.

Questions about the collection's articles as such ("有哪些文章？", "哪篇文章最新？", "List the
articles about Gansu.") are answered the same way: the articles, each cited by its record.
When that article's record lacks what is asked, the answer is a refusal saying so (no passage can
hold a byline the cleaner took out). A question that points at no article (a public passage's
"谁写的" asks about a book) is left to sentence selection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from assistant.answer.compose import chinese_body, english_body, marker
from assistant.index import Index
from assistant.query import Query
from assistant.romanised import spelled_name
from assistant.text import match_form, tokenize_zh
from assistant.types import Article, Chunk, Citation, Hit

FIELDS = ("author", "date", "source", "editor")  # in the order an answer gives them
# How the record line labels each field (the labels news pages print above an article).
LABELS = {"author": "作者", "date": "发布时间", "source": "来源", "editor": "编辑"}
_EN_NAMES = {"author": "author", "date": "published", "source": "outlet", "editor": "editor"}
_EN_ASKED = {"author": "author", "date": "publication date", "source": "outlet", "editor": "editor"}

# -- what is asked (Chinese) -----------------------------------------------------------------

_ZH_ARTICLE = r"(?:文章|报道|稿件|本文|该文|此文|这篇|那篇|评论|访谈|专访|新闻)"
_ZH_PUBLISH = r"(?:发布|发表|刊发|刊登|刊载|见报|发稿)"
_ZH_WHEN = r"(?:什么时候|何时|哪天|哪一天|什么时间|哪年|哪一年|日期)"
_ZH_ASKS = {
    "author": re.compile(r"谁写的?|谁撰写|作者是谁|作者是哪位|谁是作者|由谁(?:撰写|执笔|采写|写)|记者是谁|哪位记者"),
    "date": re.compile(r"(?:发布|发表|刊发)时间"),
    "source": re.compile(r"(?:哪家|哪个|什么)(?:媒体|报纸|报社|网站)"),
    "editor": re.compile(r"(?:责任)?编辑是谁|哪位编辑|责编是谁"),
}
_ZH_DATE_PARTS = (re.compile(_ZH_WHEN), re.compile(_ZH_PUBLISH), re.compile(_ZH_ARTICLE))
# "这篇报道是哪年的", "文章写于何时": the time word is the article's own predicate, no verb needed
_ZH_ARTICLE_WHEN = re.compile(rf"{_ZH_ARTICLE}(?:是|写于|发于)?(?:什么时候|何时|哪天|哪一天|哪年|哪一年)")
_ZH_SOURCE_WORD = re.compile(r"来源|出处")
# Who the author is, or their post, asked of "作者" or of the name the question writes.
_ZH_POST = r"(?:的)?(?:是谁|是(?:什么|何)(?:职务|职位|身份|人|头衔|单位)|(?:职务|职位|身份|头衔|工作单位|单位)|担任|现任|任职)"

# -- what is asked (English) -----------------------------------------------------------------

_EN_ARTICLE = r"\b(?:article|piece|story|report|commentary|interview|op-ed|editorial|column|feature)s?\b"
_EN_ASKS = {
    "author": re.compile(r"\bwho (?:wrote|authored|penned|reported)\b|\bwho (?:is|was) (?:the|its) (?:author|reporter|writer)\b"
                         r"|\bwritten by whom\b|\bwho (?:is|was) (?:the )?(?:article|piece|story|commentary)'s author\b"),
    "date": re.compile(r"\bwhen (?:was|were|did)\b.*\b(?:published|posted|released|printed|ran|run|appeared?|come out)\b"
                       r"|\bpublication date\b|\bwhat (?:date|day)\b.*\b(?:published|posted|ran)\b"),
    "source": re.compile(r"\b(?:which|what) (?:outlet|newspaper|paper|website|publication|media|news site)\b"
                         r"|\bwhere (?:was|were)\b.*\b(?:published|posted|printed|ran|run)\b"),
    "editor": re.compile(r"\bwho edited\b|\bwho (?:is|was) (?:the|its) editor\b"),
}
_EN_POST = re.compile(r"\b(?:post|position|job|role|affiliation|institution|occupation)\b|\bworks? (?:for|at)\b")

# The body's note on its author: "作者为…", "作者系…", "（作者单位：…）", "本文作者…"; a closing
# "（记者 华静）" gives the author's role.
_NOTE = re.compile(r"^[（(]?\s*(?:本文)?作者(?:为|系|是|单位\s*[:：]?)")
_NOTE_CHARS = 80


@dataclass(frozen=True)
class RecordQuestion:
    """What a question asks of an article's record."""

    fields: tuple[str, ...]  # of FIELDS, in that order
    post: bool  # who the author is / their post: the author note is quoted too
    author: str | None = None  # an article's recorded author the question writes
    # The question calls what it asks about an article (文章, 这篇, "piece", "commentary"): without
    # that, a quoted title of a retrieved article or the author's name, "谁写的" asks about some
    # other work (伏尔泰的朋友们是谁写的), not the article.
    says_article: bool = False


def record_question(query: Query, authors: Callable[[], Sequence[str]] = tuple) -> RecordQuestion | None:
    """What ``query`` asks of an article's record, or None when it asks nothing of it.

    ``authors``: the recorded authors of the articles in reach (a name the question writes makes
    its "是什么职务" a question about that author), called only for a question asking who someone
    is or their post: reading the records costs, and most questions ask nothing of them."""
    if query.lang == "zh":
        return _zh_question(query.normalized, authors)
    return _en_question(query, authors)


def _zh_question(text: str, authors: Callable[[], Sequence[str]]) -> RecordQuestion | None:
    fields = {f for f, pattern in _ZH_ASKS.items() if pattern.search(text)}
    if all(p.search(text) for p in _ZH_DATE_PARTS) or _ZH_ARTICLE_WHEN.search(text):
        fields.add("date")
    if _ZH_SOURCE_WORD.search(text) and re.search(_ZH_ARTICLE, text):
        fields.add("source")
    post = bool(re.search("作者" + _ZH_POST, text))
    named = None
    if re.search(_ZH_POST, text):
        named = next((a for a in authors() if len(a) >= 2 and re.search(re.escape(a) + _ZH_POST, text)), None)
    if named is not None:  # the record's author line says whose the author note is
        post = True
        fields.add("author")
    if post and "作者" in text:
        fields.add("author")
    if not fields and not post:
        return None
    return RecordQuestion(tuple(f for f in FIELDS if f in fields), post, named, re.search(_ZH_ARTICLE, text) is not None)


def _en_question(query: Query, authors: Callable[[], Sequence[str]]) -> RecordQuestion | None:
    text = query.normalized.lower()
    has_article = re.search(_EN_ARTICLE, text) is not None
    fields = {f for f, pattern in _EN_ASKS.items() if pattern.search(text)}
    asks_post = _EN_POST.search(text) is not None
    named = None
    if asks_post or re.search(r"\bwho (?:is|was)\b", text):
        # "What post does Li Zhenyou hold?": the author's name in pinyin, spelled as the record spells it
        named = spelled_name(query.text, list(authors()))
    if named is not None:
        fields.add("author")
    if not fields:
        return None
    post = ("author" in fields and asks_post) or named is not None
    return RecordQuestion(tuple(f for f in FIELDS if f in fields), post, named, has_article)


def recorded_authors(article: Article) -> list[str]:
    """The names of an article's record ("张三、李四" -> both)."""
    return [name for name in re.split(r"[、,，\s]+", article.author or "") if name]


def record_line(article: Article) -> str:
    """The record as one line, labelled as news pages print it: 《title》 来源：… 发布时间：… 作者：… 编辑：…"""
    parts = [f"《{article.title}》"]
    parts += [f"{LABELS[f]}：{value}" for f in ("source", "date", "author", "editor")
              if (value := field_value(article, f))]
    return "　".join(parts)


def field_value(article: Article, field: str) -> str | None:
    value = getattr(article, field)
    if field == "date" and value:
        return value.replace("T", " ")  # ISO 8601 as stored; shown as a page prints it
    return value or None


def record_citation(n: int, article: Article, field: str) -> Citation:
    """A citation of the article's record for ``field`` (or "title"); its offsets index ``text``,
    the record line."""
    line = record_line(article)
    if field == "title":
        value, at = article.title, 1  # after "《"
    else:
        value = field_value(article, field) or ""
        at = line.index(f"{LABELS[field]}：{value}") + len(LABELS[field]) + 1
    return Citation(n=n, doc_id=article.doc_id, title=article.title, source=article.source, date=article.date,
                    url=article.url, chunk_id=f"{article.doc_id}#record", text=line, quote=value,
                    quote_start=at, quote_end=at + len(value), kind="record")


def author_note(article: Article, author: str | None) -> tuple[int, int] | None:
    """The span of the body's note on its author: a short line opening 作者为/作者系/作者单位…, or a
    closing "（记者 NAME）" naming ``author``; None when the body has none."""
    text, at = article.text, 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and len(stripped) <= _NOTE_CHARS and _NOTE.match(stripped):
            start = at + line.index(stripped)
            return start, start + len(stripped)
        at += len(line) + 1
    if author:
        closing = re.search(rf"[（(]\s*(?:本报)?记者\s*[:：]?\s*{re.escape(author)}[^（()）]*[）)]\s*$", text)
        if closing:
            return closing.start(), closing.end()
    return None


def chosen_article(question: RecordQuestion, query: Query, hits: Sequence[Hit], index: Index) -> Article | None:
    """The article asked about: the one whose recorded author the question writes; else, when the
    question calls what it asks about an article (文章, 这篇, "piece"), the retrieved one whose title
    it quotes, or the first retrieved this index holds if it quotes none; None otherwise (a title
    alone names a subject as well: "《三遂平妖传》的作者是谁" asks for the novel's author)."""
    held = [h for h in hits if index.chunk_row(h.chunk.chunk_id) is not None]
    doc_ids = list(dict.fromkeys(h.chunk.doc_id for h in held))
    articles = [index.article(d) for d in doc_ids]
    if question.author is not None:
        return next((a for a in articles if question.author in recorded_authors(a)), None)
    if not question.says_article:  # a quoted title names a subject too: 《三遂平妖传》的作者 is the book's
        return None
    quoted = [match_form(q) for q in re.findall(r"《([^》]{4,})》|“([^”]{4,})”|\"([^\"]{4,})\"", query.normalized)
              for q in q if q]
    for title in quoted:
        article = next((a for a in articles if title in match_form(a.title)), None)
        if article is not None:
            return article
    if quoted:  # another work's title: 《北方往事》这篇文章里的…
        return None
    return articles[0] if articles else None


def authors_in_reach(hits: Sequence[Hit], index: Index) -> list[str]:
    """Recorded authors of the retrieved passages' articles."""
    doc_ids = dict.fromkeys(h.chunk.doc_id for h in hits if index.chunk_row(h.chunk.chunk_id) is not None)
    return list(dict.fromkeys(name for d in doc_ids for name in recorded_authors(index.article(d))))


def note_chunk(index: Index, hits: Sequence[Hit], doc_id: str, span: tuple[int, int]) -> Hit | None:
    """The passage of ``doc_id`` that holds ``span``, walking from a retrieved passage of the article."""
    start, end = span
    row = next((index.chunk_row(h.chunk.chunk_id) for h in hits if h.chunk.doc_id == doc_id
                and index.chunk_row(h.chunk.chunk_id) is not None), None)
    if row is None:
        return None
    step = 1 if index.chunk(row).end < end else -1  # one way only: a span across two passages ends the walk
    while row is not None:
        chunk = index.chunk(row)
        if chunk.start <= start and end <= chunk.end:
            return Hit(chunk=chunk, score=0.0, rank=0)
        if (step == 1 and chunk.start > start) or (step == -1 and chunk.end < end):
            return None
        row = index.adjacent_chunk(row, step)
    return None


def asked_names(fields: Sequence[str], lang: str) -> list[str]:
    """What a refusal says the article's record lacks ("该文章的作者", "the article's author")."""
    if lang == "zh":
        return [f"该文章的{LABELS[f]}" for f in fields]
    return [f"the article's {_EN_ASKED[f]}" for f in fields]


def record_body(article: Article, fields: Sequence[str], note_chunk: Chunk | None, note: tuple[int, int] | None,
                lang: str) -> tuple[str, list[Citation]]:
    """The answer's body and citations: the record's ``fields``, then the author note (the span
    ``note`` of the article, in its passage ``note_chunk``) when there is one."""
    citations = [record_citation(n, article, f) for n, f in enumerate(fields, start=1)]
    notes = []
    if note_chunk is not None and note is not None:
        start, end = note
        notes.append(Citation(n=len(citations) + 1, doc_id=article.doc_id, title=article.title, source=article.source,
                              date=article.date, url=article.url, chunk_id=note_chunk.chunk_id, text=note_chunk.text,
                              quote=article.text[start:end], quote_start=start, quote_end=end))
    if lang == "zh":
        body = (f"《{article.title}》" + "，".join(f"{LABELS[f]}：{c.quote}{marker([c.n])}" for f, c in zip(fields, citations))
                + "。") if citations else ""
        body += chinese_body([(c.quote, [c.n]) for c in notes])
    else:
        body = english_body([(f"The record of “{article.title}” ({_EN_NAMES[f]})", c.quote, [c.n]) for f, c in zip(fields, citations)]
                            + [("The author note", c.quote, [c.n]) for c in notes])
    return body, citations + notes


# -- questions about the collection's articles -------------------------------------------------

_ZH_LISTING = re.compile(r"(?:哪些|哪几篇|哪篇|几篇|多少篇)(?:文章|报道|稿件|新闻)|(?:文章|报道|稿件)(?:有|包括)(?:哪些|几篇|多少篇)"
                         r"|(?:文章|报道|稿件|新闻)(?:里|中)?(?:哪篇|哪几篇)"
                         r"|(?:列出|列举)[^？?。]*(?:文章|报道)")
_EN_LISTING = re.compile(r"\b(?:which|what) (?:articles|pieces|stories|reports)\b|\bhow many (?:articles|pieces|stories|reports)\b"
                         r"|\blist (?:all |the |all the )?(?:articles|pieces|stories|reports)\b"
                         r"|\bwhich (?:article|piece|story|report) (?:is|was) (?:the )?(?:newest|latest|oldest|earliest|most recent)\b")
_NEWEST = re.compile(r"最新|最近|\bnewest\b|\blatest\b|\bmost recent\b")
_OLDEST = re.compile(r"最早|最旧|\boldest\b|\bearliest\b")
# The words of a listing question that say "list the articles", not what they are about.
_ZH_LISTING_WORDS = frozenset(
    "文章 报道 稿件 新闻 哪些 哪几篇 哪篇 几篇 多少篇 篇 提到 提及 谈到 涉及 讲 讲了 关于 有关 列出 列举 收录 资料库 资料 "
    "最新 最近 最早 最旧 分别 都 有 包括 是 的 里 中 哪 了 几 多少 吗 呢 请 一下 这些 那些 一共 共".split())
_EN_LISTING_WORDS = re.compile(r"\b(?:articles?|pieces?|stories|story|reports?|list|mention(?:s|ed|ing)?|about|on|collection|"
                               r"cover(?:s|ed|ing)?|discuss(?:es|ed|ing)?|talk(?:s|ed)? about|newest|latest|oldest|earliest|"
                               r"most recent|which|what|how many|all|the|are|is|was|were|there|in|of|do|does|did|you|have)\b")
MAX_LISTED = 10
# "X发表了哪篇文章", "which articles did X write": the articles are someone's works the passages
# tell of, not the collection's.
_ZH_WROTE = re.compile(r"(?:发表|写|撰写|创作|刊登|出版|著)了?(?:哪些|哪几篇|哪篇|几篇|多少篇)(?:文章|报道|稿件|新闻)")
_EN_WROTE = re.compile(r"\b(?:did|does|do|has|have|had)\b.*\b(?:write|publish|author|pen)\b|\b(?:wrote|penned|authored)\b")


@dataclass(frozen=True)
class ListingQuestion:
    """A question about the collection's articles as such: which are there, which is newest."""

    topic: str  # the question without its listing words ("" when it asks about every article)
    order: str | None = None  # "newest" or "oldest": the one article asked for


def listing_question(query: Query) -> ListingQuestion | None:
    text = query.normalized if query.lang == "zh" else query.normalized.lower()
    if not (_ZH_LISTING if query.lang == "zh" else _EN_LISTING).search(text):
        return None
    if (_ZH_WROTE if query.lang == "zh" else _EN_WROTE).search(text):
        return None  # "迟子建发表哪篇文章而成名": a work someone wrote, asked of the passages
    order = "newest" if _NEWEST.search(text) else "oldest" if _OLDEST.search(text) else None
    if query.lang == "zh":  # by words: 中 of 文章中 is a listing word, of 中试 not
        kept = [w for w in tokenize_zh(text, bigrams=False)
                if w not in _ZH_LISTING_WORDS and not re.search(r"文章|报道|稿件|新闻|篇", w)]  # jieba's "篇文章"
    else:
        kept = [_EN_LISTING_WORDS.sub(" ", text)]
    topic = re.sub(r"[\s\W]+", " ", " ".join(kept)).strip()
    return ListingQuestion(topic, order)


def holds_every(text: str, terms) -> bool:
    """Whether ``text`` (match form) holds some token of every one of ``terms``."""
    return all(any(token in text for token in term.tokens) for term in terms)


def listing_body(articles: Sequence[Article], order: str | None, lang: str) -> tuple[str, list[Citation]]:
    """The answer's body and citations for a listing: a head (the count, or "the newest"), then one
    line per article shown (at most ``MAX_LISTED``) with its outlet and date, cited by its record."""
    shown = list(articles[:MAX_LISTED])
    citations = [record_citation(n, a, "title") for n, a in enumerate(shown, start=1)]
    described = [(" · ".join(x for x in (a.source, field_value(a, "date")) if x), c) for a, c in zip(shown, citations)]
    more = len(articles) > len(shown)
    if lang == "zh":
        head = {"newest": "最新的一篇", "oldest": "最早的一篇"}.get(
            order or "", f"共{len(articles)}篇" + (f"，列出前{len(shown)}篇" if more else ""))
        lines = [f"《{c.quote}》" + (f"（{meta}）" if meta else "") + marker([c.n]) for meta, c in described]
        return head + "：\n" + "\n".join(lines), citations
    head = {"newest": "The newest article", "oldest": "The earliest article"}.get(
        order or "", f"{len(articles)} article{'s' if len(articles) > 1 else ''}" + (f", the first {len(shown)} shown" if more else ""))
    return head + ":\n" + english_body([(meta or "Undated", c.quote, [c.n]) for meta, c in described]), citations
