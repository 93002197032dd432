"""Turn the raw text of a scraped Chinese news page into article body + metadata.

A scraped page has three parts, and the rules here follow that shape rather than any
one site's wording:

* **head** – breadcrumbs ("您当前的位置 : X >> Y"), widgets ("投稿", "分享到"), the headline,
  a meta line ("2021-08-26 08:37 来源:X日报 编辑:Y"), bylines ("本报记者 张三"), and
  sometimes the headline repeated.  The headline and metadata are kept, the rest dropped.
* **body** – from the first prose line (long, with sentence punctuation) on.  Short lines in
  the body are kept (section headings, "(记者 华静)"), only pure widget lines are dropped.
* **tail** – starts at the first line that opens a disclaimer / recommendation / navigation
  block ("版权声明", "责任编辑:", "精彩推荐", ...) or a run of headline-list lines
  ("1   某某新闻", "- 2024-12-09某某", "• 某某").  Everything from there on is dropped,
  after scanning it for metadata (原文链接, 本文来源, 责任编辑).

The output text has one paragraph per line, whitespace-trimmed, inner whitespace runs
collapsed to one space, characters otherwise untouched (citations quote exact text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import to_simplified

__all__ = ["CleanedPage", "clean_page_text", "normalize_date", "normalize_paragraph"]


@dataclass(frozen=True)
class CleanedPage:
    """The article body (paragraphs joined by ``\\n``) and the metadata found around it."""

    title: str
    text: str
    source: str | None = None
    date: str | None = None  # ISO 8601
    author: str | None = None
    editor: str | None = None
    url: str | None = None


# ---------------------------------------------------------------------------------------
# Line normalisation
# ---------------------------------------------------------------------------------------

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACE_RUN = re.compile(r"\s+")


def normalize_paragraph(line: str) -> str:
    """Trim (incl. full-width spaces and nbsp) and collapse inner whitespace runs to one space."""
    return _SPACE_RUN.sub(" ", _ZERO_WIDTH.sub("", line)).strip()


def _compact(text: str) -> str:
    """Text without any whitespace, for comparing lines that differ only in spacing."""
    return _SPACE_RUN.sub("", text)


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------

_DATE = re.compile(
    r"(?<!\d)(?P<y>\d{4}|\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)


def _find_date(text: str) -> re.Match[str] | None:
    """The first date-looking span in ``text`` whose fields are a valid calendar date."""
    for match in _DATE.finditer(text):
        if _iso_from_match(match):
            return match
    return None


def _iso_from_match(match: re.Match[str]) -> str | None:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if len(match["y"]) == 2:  # "21-08-26": two-digit years on news pages are this century
        year += 2000
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    if match["H"] is not None:
        hour, minute = int(match["H"]), int(match["M"])
        if hour > 23 or minute > 59:
            return iso
        iso += f"T{hour:02d}:{minute:02d}"
        if match["S"] is not None and int(match["S"]) <= 59:
            iso += f":{match['S']}"
    return iso


def normalize_date(text: str) -> str | None:
    """ISO form of the first date in ``text``.

    >>> normalize_date("21-08-26 08:37"), normalize_date("2024年12月9日")
    ('2021-08-26T08:37', '2024-12-09')
    """
    match = _find_date(text)
    return _iso_from_match(match) if match else None


# ---------------------------------------------------------------------------------------
# Line classifiers
# ---------------------------------------------------------------------------------------

_HAN = "\u4e00-\u9fff\u3400-\u4dbf"
_SENTENCE_END = re.compile(r"[。！？!?；;]|\.(\s|$)")

_BREADCRUMB_START = re.compile(r"^(您?当前的?位置|您的位置|所在位置|当前栏目)\s*[:：]?")
_BREADCRUMB_SEP = re.compile(r"\s*(?:>>|»|＞|>|›|→)\s*")


def _is_breadcrumb(line: str) -> bool:
    """A path of short segments: "您当前的位置 : X >> Y", "首页 > 新闻 > 本地"."""
    if _BREADCRUMB_START.match(line):
        return True
    parts = [p for p in _BREADCRUMB_SEP.split(line) if p]
    if len(parts) < 2 or _SENTENCE_END.search(line):
        return False
    return all(len(p) <= 16 for p in parts) and (len(parts) >= 3 or parts[0] in ("首页", "主页", "网站首页"))


# Page furniture that can sit anywhere, even between paragraphs (buttons, share bars, app
# promos): dropped wherever it is, never taken as the end of the article.
_WIDGET_WORDS = {
    "投稿", "我要投稿", "分享", "分享到", "打印", "打印本页", "关闭", "关闭窗口", "收藏", "评论",
    "返回", "返回顶部", "返回首页", "扫一扫", "纠错", "我要纠错", "举报", "登录", "注册", "首页",
    "上一篇", "下一篇", "上一页", "下一页", "字号", "字体", "大", "中", "小", "默认", "微信",
    "微博", "朋友圈", "QQ空间", "复制链接", "点赞", "阅读全文", "展开全文", "更多", "关注我们",
}
_WIDGET_SPLIT = re.compile(r"[\s【】\[\]()（）|｜>»·•]+")
_WIDGET_SUFFIX = re.compile(r"(微博|微信|公众号|客户端|下载|二维码|APP|App|app)$")


def _is_widget(line: str) -> bool:
    """A line of buttons/labels ("投稿", "【字号 大 中 小】", "分享到：微信 微博", "X网微博")."""
    tokens = [t for t in (t.strip(":：") for t in _WIDGET_SPLIT.split(line)) if t]
    if all(t in _WIDGET_WORDS or t.startswith("分享到") for t in tokens):  # also true for bare punctuation
        return True
    bare = "".join(tokens)
    return len(bare) <= 12 and not _SENTENCE_END.search(line) and bool(_WIDGET_SUFFIX.search(bare))


# Words that open the block after the article: disclaimers and related-link/navigation blocks...
_TAIL_WORDS = (
    "版权声明|版权所有|特别声明|免责声明|声明|原文链接|原文地址|精彩推荐|推荐阅读|相关阅读|相关新闻|"
    "相关文章|相关链接|相关稿件|延伸阅读|栏目导航|热点推荐|热门推荐|热点新闻|热门新闻|热门文章|"
    "热门资讯|即时播报|最新加入|最新资讯|最新文章|最新新闻|精选图文|阅读排行|点击排行|排行榜|"
    "猜你喜欢|网友评论|友情链接|联系我们|Copyright|©"
)
# ...and credit lines, which open the tail only when they are not a sentence of the article
# ("来源:国家统计局。数据显示…" is prose).
_CREDIT_WORDS = "本文来源|文章来源|稿件来源|来源|稿源|责任编辑|值班编辑|编辑|审核|校对|监制"


def _marker(words: str) -> re.Pattern[str]:
    """A marker word at line start, optionally bracketed, followed by a separator or line end."""
    return re.compile(rf"^[\[【(（]?\s*(?:{words})\s*(?P<after>[\]】)）]|[:：|｜/]|$)?", re.IGNORECASE)


_TAIL_MARKER = _marker(_TAIL_WORDS)
_CREDIT_MARKER = _marker(_CREDIT_WORDS)
_END_MARK = re.compile(r"^[\[【(（—-]*\s*完\s*[\]】)）—-]*$")  # "（完）", "【完】", "—完—"


def _is_tail_marker(line: str) -> bool:
    """Does this line open the tail ("版权声明:…", "精彩推荐", "责任编辑:王五", "阅读排行榜")?"""
    match = _TAIL_MARKER.match(line) or (not _is_prose(line) and _CREDIT_MARKER.match(line))
    if not match:
        return False
    # A separator or end of line after the word, or a short heading ("阅读排行榜", "热门推荐 更多>>").
    return match["after"] is not None or len(line) <= 12


_LIST_PREFIX = re.compile(
    r"^(?:[•·●◆◇▪■□○►▶\-–*+]\s*|\d{1,2}(?:\s+|[.、．)）]\s*)|[\[【]\d{1,2}[\]】]\s*|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
)


def _is_headline_item(line: str) -> bool:
    """One entry of a related-links list: "1   某某新闻", "- 2024-12-09某某", "某某公司…"."""
    if len(line) > 60 or re.search(r"[。！？!?；;：:]$", line):
        return False
    if _LIST_PREFIX.match(line):
        return True
    return len(line) <= 30 and line.endswith(("...", "…"))  # titles truncated by the site


def _is_prose(line: str) -> bool:
    """A body paragraph: long enough and made of sentences."""
    return len(line) >= 25 and bool(_SENTENCE_END.search(line))


def _is_subtitle(line: str) -> bool:
    return line.startswith(("——", "—", "--", "－－", "原标题"))


# ---------------------------------------------------------------------------------------
# Metadata lines
# ---------------------------------------------------------------------------------------

_META_FIELDS = {
    "本文来源": "source", "文章来源": "source", "稿件来源": "source", "来源": "source", "稿源": "source",
    "出处": "source", "发布时间": "date", "发布日期": "date", "更新时间": "date", "时间": "date",
    "日期": "date", "作者": "author", "记者": "author", "撰文": "author", "责任编辑": "editor",
    "值班编辑": "editor", "编辑": "editor", "原文链接": "url", "原文地址": "url",
}
# Longest keys first so "责任编辑" wins over "编辑" at the same position.
_META_KEY = re.compile(
    "(" + "|".join(sorted(_META_FIELDS, key=len, reverse=True)) + r")(?:\s*[:：/|｜]\s*|\s+)"
)  # "来源：X", "来源/ X", "记者 赵六"
_VALUE_JUNK = " \t-–—|｜/:：,，;；。()（）[]【】"


@dataclass
class _Metadata:
    """Fields found so far; the first value found for a field wins."""

    source: str | None = None
    date: str | None = None
    author: str | None = None
    editor: str | None = None
    url: str | None = None

    def offer(self, field: str, value: str | None) -> None:
        if value and getattr(self, field) is None:
            setattr(self, field, value)


def _read_meta_line(line: str, meta: _Metadata, *, require_key_at_start: bool = False) -> bool:
    """If ``line`` is a metadata line ("21-08-26 08:37 来源:X 编辑:Y"), record its fields.

    Returns whether it was one.  ``require_key_at_start`` is for tail lines, where a key in
    mid-line is usually quoted prose ("凡本网注明“来源:XX”的作品…").
    """
    if len(line) > 150 or re.search(r"[。！？!?]", line):
        return False
    keys = list(_META_KEY.finditer(line))
    date = _find_date(line)
    if require_key_at_start and not (keys and keys[0].start() == 0):
        return False
    starts_with_date = date is not None and date.start() == 0 and len(line) - date.end() <= 20
    if not keys and not starts_with_date:
        return False
    if date:
        meta.offer("date", _iso_from_match(date))
    for key, next_key in zip(keys, keys[1:] + [None]):
        field = _META_FIELDS[key.group(1)]
        value = line[key.end() : next_key.start() if next_key else len(line)]
        if field == "date":
            meta.offer("date", normalize_date(value))
            continue
        if field != "url":  # a source like "X日报 2023年5月6日" carries the date along
            value = _DATE.sub("", value)
        value = value.strip(_VALUE_JUNK)
        if field == "author":
            value = _names(value) or ""
        meta.offer(field, value or None)
    return True


_NAME = rf"[{_HAN}·]{{2,5}}"
_ROLE_WORDS = re.compile(r"(通讯员|实习生|摄影|摄|报道|整理|编译)")
# "新甘肃·甘肃日报记者 李满福", "本报记者 张三 通讯员 李四", "作者：张三", "文/张三"
_BYLINE = re.compile(
    rf"^(?:[^。，,]{{0,20}}?(?:记者|作者|撰文)|文\s*(?=[:：/｜|]))\s*[:：/｜|]?\s*"
    rf"(?P<names>{_NAME}(?:[\s、，,]+{_NAME})*)"
)


def _names(text: str) -> str | None:
    """Person names from a byline value: "张三 李四 通讯员 王五" -> "张三、李四"."""
    text = _ROLE_WORDS.split(text)[0]
    names = [n for n in re.split(r"[\s、，,]+", text) if re.fullmatch(_NAME, n)]
    return "、".join(names) or None


def _read_byline(line: str, meta: _Metadata) -> bool:
    """A line that is only a byline ("新甘肃·甘肃日报记者 李满福", "文/张三"): record the author."""
    if len(line) > 40 or re.search(r"[。！？!?，,；;]", line):
        return False
    match = _BYLINE.match(line)
    if not match:
        return False
    rest = line[match.end() :].strip()
    if rest and not _ROLE_WORDS.match(rest):  # anything else on the line: not a pure byline
        return False
    meta.offer("author", _names(match["names"]))
    return True


# Common surnames; a 2–4 character line starting with one, just before the body, is a byline.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁"
    "胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼闻厉伊郜阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计"
    "索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况宿印逯隆茹诸战慕危玉"
    "银亢嵇公湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由代"
)


@lru_cache(maxsize=1)
def _surname_chars() -> frozenset[str]:
    """Simplified surnames plus their Traditional forms (Big5 pages)."""
    import opencc

    return frozenset(_SURNAMES + opencc.OpenCC("s2t").convert(_SURNAMES))


def _is_name_line(line: str) -> bool:
    return bool(re.fullmatch(rf"[{_HAN}]{{2,4}}", line)) and line[0] in _surname_chars()


_CLOSING_REPORTER = re.compile(rf"[（(]\s*(?:本报)?记者\s*[:：]?\s*(?P<names>{_NAME}(?:\s+{_NAME})*)[^（()）]*[）)]\s*$")


# ---------------------------------------------------------------------------------------
# Page structure
# ---------------------------------------------------------------------------------------

_HEAD_WINDOW = 15  # the headline and meta line are within the first lines before the body


def _is_title_candidate(line: str, meta: _Metadata) -> bool:
    return (
        4 <= len(line) <= 80
        and not line.endswith("。")
        and not _is_subtitle(line)
        and not _is_breadcrumb(line)
        and not _is_widget(line)
        and not _is_tail_marker(line)
        and not _read_meta_line(line, _Metadata())
        and not _read_byline(line, _Metadata())
    )


def _find_title(lines: list[str], first_prose: int) -> int | None:
    """Index of the headline among the head lines, or None.

    With a meta line, the headline is the longest candidate above it (the lines above are
    breadcrumbs and widgets), or below it when the page puts the meta line first; without
    one, the longest candidate before the first paragraph.
    """
    window = range(min(first_prose, _HEAD_WINDOW))
    meta_at = next((i for i in window if _read_meta_line(lines[i], _Metadata())), None)
    searches = [window] if meta_at is None else [range(meta_at), range(meta_at + 1, window.stop)]
    for search in searches:
        candidates = [i for i in search if _is_title_candidate(lines[i], _Metadata())]
        if candidates:
            return max(candidates, key=lambda i: (len(lines[i]), -i))
    return None


def _is_title_fragment(line: str, title: str) -> bool:
    """The headline repeated (whole, or split over lines) at the top of the body."""
    compact, compact_title = _compact(line), _compact(title)
    return bool(compact_title) and len(compact) >= 4 and compact in compact_title


def _clean_lead(lines: list[str], title: str, meta: _Metadata) -> list[str]:
    """Lines between headline and first paragraph: keep subtitles, harvest and drop the rest."""
    kept = []
    for line in lines:
        if _is_title_fragment(line, title) or _is_breadcrumb(line) or _is_widget(line):
            continue
        if _read_meta_line(line, meta) or _read_byline(line, meta):
            continue
        if _is_name_line(line) and meta.author in (None, line):
            meta.offer("author", line)
            continue
        if _is_tail_marker(line) and not _is_prose(line):  # stray nav heading above the body
            continue
        kept.append(line)
    return kept


_MIN_LIST_RUN = 3  # consecutive headline-list lines that count as a related-links block


# Prose that belongs to a page's footer rather than to an article.
_FOOTER_PROSE = re.compile(r"版权|转载|侵权|免责|授权|联系电话|联系我们|邮箱|地址|备案|ICP|违法和不良")


def _find_tail_start(lines: list[str], start: int) -> int:
    """Index of the first tail line at or after ``start`` (``len(lines)`` if there is none).

    A footer word directly followed by more article prose (two paragraphs that are not
    legal boilerplate) does not end the article: that line alone is dropped (see ``_clean``).
    """
    for i in range(start, len(lines)):
        line = lines[i]
        if _END_MARK.match(line):
            return i
        if _is_tail_marker(line):
            if _article_continues(lines, i + 1):
                continue
            return i
        if _is_headline_item(line) and _starts_list_block(lines, i):
            return i
    return len(lines)


def _article_continues(lines: list[str], i: int) -> bool:
    following = lines[i:i + 2]
    return len(following) == 2 and all(_is_prose(line) and len(line) >= 40 and not _FOOTER_PROSE.search(line)
                                       and not _is_tail_marker(line) for line in following)


def _starts_list_block(lines: list[str], i: int) -> bool:
    """A run of headline items with no article prose after it (a list inside the body is kept)."""
    run = 0
    while i + run < len(lines) and _is_headline_item(lines[i + run]):
        run += 1
    if run < _MIN_LIST_RUN:
        return False
    for line in lines[i + run :]:
        if _is_tail_marker(line):
            break
        if _is_prose(line):
            return False
    return True


def _read_tail(lines: list[str], title: str, meta: _Metadata) -> None:
    """Harvest metadata from the tail; the article's own entry in a news list gives its date."""
    for line in lines:
        _read_meta_line(line, meta, require_key_at_start=True)
    if meta.date is None and title:
        for line in lines:
            date = _find_date(line)
            if date and _mentions_title(line[date.end() :], title):
                meta.offer("date", _iso_from_match(date))
                break


def _mentions_title(text: str, title: str) -> bool:
    text, title = _compact(text), _compact(title)
    if text.endswith(("...", "…")):  # truncated list entry
        text = text.rstrip(".…")
        return len(text) >= 8 and title.startswith(text)
    return title in text


def clean_page_text(raw: str, title: str | None = None) -> CleanedPage:
    """Split raw page text into headline, body and metadata.

    ``title``: the headline when already known (HTML <title>/<h1>); it is then not searched
    for, but still removed where the body repeats it.

    The rules are written in Simplified script; a Traditional page is cleaned by the same
    rules applied to its Simplified form (same length, line for line), and what they keep is
    then cut from the page as written, so 來源/原標題/責任編輯 lines go exactly as 来源/原标题/
    责任编辑 lines do and the article keeps its own script.
    """
    simplified = to_simplified(raw)
    if simplified == raw:
        return _clean(raw, title)
    page = _clean(simplified, to_simplified(title) if title else title)
    original = "\n".join(normalize_paragraph(line) for line in raw.splitlines())
    converted = to_simplified(original)

    def restore(value: str | None, start: int = 0) -> tuple[str | None, int]:
        at = converted.find(value, start) if value else -1
        return (original[at:at + len(value)], at + len(value)) if at >= 0 else (value, start)

    body, cursor = [], 0
    for line in page.text.split("\n") if page.text else []:
        restored, cursor = restore(line, cursor)
        body.append(restored)
    return CleanedPage(
        title=title if title else restore(page.title)[0] or "",
        text="\n".join(body),
        source=restore(page.source)[0],
        date=page.date,
        author=restore(page.author)[0],
        editor=restore(page.editor)[0],
        url=page.url,
    )


def _clean(raw: str, title: str | None) -> CleanedPage:
    lines = [p for p in (normalize_paragraph(line) for line in raw.splitlines()) if p]
    meta = _Metadata()
    first_prose = next((i for i, line in enumerate(lines) if _is_prose(line)), len(lines))

    lead_start = 0
    if title is None:
        title_at = _find_title(lines, first_prose)
        title = lines[title_at] if title_at is not None else ""
        if title_at is not None:
            lead_start = title_at + 1
            for line in lines[:title_at]:  # breadcrumbs and widgets, or a meta line put first
                _read_meta_line(line, meta)
    first_prose = max(first_prose, lead_start)

    tail_start = _find_tail_start(lines, first_prose)
    body = _clean_lead(lines[lead_start:first_prose], title, meta)
    body += [line for line in lines[first_prose:tail_start] if not _is_widget(line) and not _is_tail_marker(line)]
    _read_tail(lines[tail_start:], title, meta)

    if meta.author is None and body:
        closing = _CLOSING_REPORTER.search(body[-1])  # "…工作的支持。(记者 华静)"
        if closing:
            meta.offer("author", _names(closing["names"]))

    return CleanedPage(
        title=title,
        text="\n".join(body),
        source=meta.source,
        date=meta.date,
        author=meta.author,
        editor=meta.editor,
        url=meta.url,
    )
