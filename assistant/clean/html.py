"""What the HTML of a page says about its text lines, before trafilatura flattens it.

trafilatura's text loses the markup that tells furniture from article: which words were
links (a recommendation list is a run of links), which short lines sat next to an image
(captions), which were buttons or app/QR-code promos, and which heading is the page's
headline.  These are read from the DOM here and handed to the cleaner as :class:`HtmlHints`.

Before that, :func:`prepare_tree` fixes the page shapes trafilatura misreads:

* an article container hidden by inline style until a script runs (``style="visibility:
  hidden"`` on WeChat's ``js_content``) is unhidden when it holds most of the page's prose,
  and the short texts around it (the reader's buttons and prompts) become widgets; other
  elements hidden by inline style and holding no prose, which the reader never sees, are dropped;
* layout tables (navigation, breadcrumb, the whole article in one- or two-cell rows) become
  plain blocks, so each cell is a line the cleaner judges like any other; data tables (a grid
  of short cells) stay tables and come out as ``|a|b|`` rows, which are article content;
* the fallback text of plugins (``<object>``/``<embed>``/``<video>``: "请安装Flash播放器") goes;
* a ``<section>`` holding no block is a paragraph (WeChat editors write ``<section><span>``);
* a subheading (``<h2>``–``<h6>``) among the article's paragraphs is a paragraph, and so is
  each item of a list of sentences there: trafilatura drops some headings and lists,
  depending on what follows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.clean.metadata import _compact, normalize_paragraph

_CAPTION_CHARS = 60  # a caption is a short label, not a paragraph
_MARKED_CAPTION_CHARS = 100  # a caption set apart by its markup or credit may be a sentence or two


@dataclass(frozen=True)
class HtmlHints:
    linked: frozenset[str] = frozenset()  # whitespace-free texts of the page's links
    captions: frozenset[str] = frozenset()  # whitespace-free texts that label an image
    headings: tuple[str, ...] = ()  # the headline as the <title> gives it, minus the site name
    widgets: frozenset[str] = frozenset()  # whitespace-free texts of buttons and app/QR-code promos
    byline: frozenset[str] = frozenset()  # whitespace-free pieces of the short block holding the date


def parse_html(html: str):
    """The lxml tree of ``html``, or None when it does not parse."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        return lxml_html.fromstring(html)
    except (ValueError, etree.ParserError):
        return None


def html_hints(tree) -> HtmlHints:
    linked = {_compact(a.text_content()) for a in tree.iter("a")}
    # A table of contents links to the article's own headings: those stay article text.
    headings = {_compact(h.text_content()) for h in tree.iter("h2", "h3", "h4", "h5", "h6", "p")
                if not any(_compact(a.text_content()) for a in h.iter("a")) and next(h.iterancestors("a"), None) is None}
    return HtmlHints(
        linked=frozenset(t for t in linked - headings if len(t) >= 2),
        captions=frozenset(_captions(tree)),
        headings=tuple(h for h in [strip_site_name(_title_tag(tree))] if h),
        widgets=frozenset(_widgets(tree)),
        byline=frozenset(_byline(tree)),
    )


_BYLINE_CHARS = 80


def _byline(tree) -> set[str]:
    """The pieces of the byline block: the largest short block holding a dated stamp
    ("原创 | 政策研究室 | 某某发布 | 2023-04-12 18:30 | 北京"), whose every piece is metadata."""
    found = set()
    body = tree.find(".//body")
    for element in (body if body is not None else tree).iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        text = _compact(element.text_content())
        parent = element.getparent()
        if (
            len(text) > _BYLINE_CHARS
            or not re.search(r"(?:19|20)\d\d[-/.年]\d{1,2}[-/.月]\d{1,2}", text)
            or (parent is not None and len(_compact(parent.text_content())) <= _BYLINE_CHARS)
        ):
            continue
        pieces = [_compact(t) for t in element.itertext() if _compact(t)]
        if len(pieces) >= 2:  # a block of separate fields, not one line of text
            found.update(pieces)
    return found


_INLINE = ("a", "span", "strong", "b", "em", "i", "font", "u")  # not <center>: a block, often image plus caption
# A photo credit closing a caption: "（新华社记者 张三 摄）", "（某某供图）", "（资料图）", "新华社发".
_PHOTO_CREDIT = re.compile(r"(?:摄|供图|摄影|资料图|截图|图)\s*[）)]?$|图片来源[:：]\S{1,16}$")
_CREDITED = re.compile(r"(?:摄|供图|摄影|资料图)\s*[）)]?$|图片来[源自][:：]?\S{1,16}$")  # not a bare 图 ("新蓝图")
# Class or id words of an element that labels a picture: "pic-info", "img_title", "photo-note", "caption".
_CAPTION_CLASS = re.compile(r"(?:^|[\s_\-])(?:pic|img|image|photo|caption|figure)", re.IGNORECASE)


def _is_centred(element) -> bool:
    for node in (element, *element.iterdescendants()):
        style = (node.get("style") or "").replace(" ", "").lower()
        if "text-align:center" in style or (node.get("align") or "").lower() == "center" or node.tag == "center":
            return True
    return False


def _image_block(img):
    block = img.getparent()
    while block is not None and block.tag in _INLINE:
        block = block.getparent()
    return block


def _captions(tree) -> set[str]:
    """Texts that label an image rather than tell the article.

    The text in the block of an image; the short block right after an image-only block (a
    label without a full stop, or one set apart as a caption: centred, credited "（X摄）",
    classed ``pic``/``photo``/``caption``); a short block classed as a caption anywhere; a
    ``<figcaption>``.
    """
    found, marked = set(), set()
    for img in tree.iter("img"):
        block = _image_block(img)
        if block is None:
            continue
        own = _compact(block.text_content())
        if own:
            found.add(own)
            if _is_centred(block) or _PHOTO_CREDIT.search(own) or _CAPTION_CLASS.search(_class_words(block)):
                marked.add(own)  # "图为…。记者 王锋 摄" under its image: a sentence, but a caption
            # A block may hold an overlay ("打开X 查看精彩图片") before the caption: each piece on its own.
            if not any(_PROSE.search(_compact(p.text_content())) for p in block.iterdescendants("p")):
                # the image's own block, not the article holding it: a piece with a photographer's credit
                marked.update(piece for piece in (_compact(t) for t in block.itertext()) if _CREDITED.search(piece))
            continue
        following = block.getnext()
        while following is not None and (not isinstance(following.tag, str)  # a comment between image and caption
                                         or not _compact(following.text_content()) and not list(following.iter("img"))):
            following = following.getnext()  # empty spacer blocks between image and caption
        if following is None or list(following.iter("img")) or not isinstance(following.tag, str):
            continue
        text = _compact(following.text_content())
        found.add(text)
        if _is_centred(following) or _PHOTO_CREDIT.search(text) or _CAPTION_CLASS.search(_class_words(following)):
            marked.add(text)
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("html", "body") or list(element.iter("img")):
            continue
        if _CAPTION_CLASS.search(_class_words(element)) and not list(
                element.iterdescendants("p", "div", "table", "ul", "section")):  # a <p class="pic-txt"> too
            marked.add(_compact(element.text_content()))
    for caption in tree.iter("figcaption"):
        found.add(_compact(caption.text_content()))
    return {c for c in found
            if 0 < len(c) <= _CAPTION_CHARS and not re.search(r"[。！？!?]|[：:]$", c) and not _OUTLINE_NUMBER.match(c)} | {
        c for c in marked if 0 < len(c) <= _MARKED_CAPTION_CHARS and not _OUTLINE_NUMBER.match(c)
    }


# "二、费用分摊", "（三）", "3." open a numbered section heading, which may follow a picture.
_OUTLINE_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[、.．](?!\d))")


def _class_words(element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


# Buttons and the promos of apps and QR codes: "在看", "写留言", "扫码下载客户端", "微信扫一扫 关注该公众号".
_PROMO_CLASS = re.compile(r"(?:^|[\s_\-])(?:qr|download|promo|erweima|ewm)|app[-_]?(?:down|link|promo|banner|guide)", re.IGNORECASE)
_QR_IMAGE = re.compile(r"qr|二维码|erweima|ewm", re.IGNORECASE)
_APP_LINK = re.compile(r"\.apk\b|apps\.apple\.com|itunes\.apple\.com|app\.mi\.com|/download|/app/?$", re.IGNORECASE)
_WIDGET_CHARS = 40


def _widgets(tree) -> set[str]:
    """Whitespace-free texts of controls (``<button>``, ``role=button``, ``javascript:`` links)
    and of the lines in an app or QR-code promo (a block classed ``qr``/``download``/``promo``,
    holding a QR-code image, or linking to an app store)."""
    found = set()
    controls = tree.xpath('//button | //*[@role="button"] | //a[starts-with(normalize-space(@href), "javascript")]')
    found.update(_compact(c.text_content()) for c in controls)
    promos = [e for e in tree.iter() if isinstance(e.tag, str) and _PROMO_CLASS.search(_class_words(e))]
    promos += [e for e in tree.iter("a") if _APP_LINK.search(e.get("href") or "")]
    for img in tree.iter("img"):  # a QR code's block, or the block around it when the code stands alone
        if _QR_IMAGE.search(f"{img.get('src') or ''} {img.get('alt') or ''} {_class_words(img)}"):
            block = _image_block(img)
            if block is not None:
                promos.append(block if _compact(block.text_content()) or block.getparent() is None else block.getparent())
    for element in promos:
        if element.tag not in ("html", "body") and len(_compact(element.text_content())) <= _WIDGET_CHARS * 2:
            found.add(_compact(element.text_content()))
            found.update(_compact(t) for t in element.itertext())
    for content in tree.xpath(f"//*[@{_CONTENT_MARK}]"):
        found.update(_outside(tree, content))
    return {t for t in found if 0 < len(t) <= _WIDGET_CHARS}


def _outside(tree, content) -> set[str]:
    """Short texts around a content container a script was to unhide (WeChat's ``js_content``):
    the reader's buttons, comment bar and prompts ("在看", "写留言", "微信扫一扫可打开此内容…")."""
    inside = {content, *content.iterdescendants()}
    around = set(content.iterancestors())
    found = set()
    body = tree.find(".//body")
    for element in (body if body is not None else tree).iter():
        if not isinstance(element.tag, str) or element in inside or element in around or element.tag in ("script", "style"):
            continue
        found.add(_compact(element.text_content()))
        found.update(_compact(t) for t in (element.text, element.tail) if t)
    return found


# ---------------------------------------------------------------------------------------
# Preparing the tree for trafilatura
# ---------------------------------------------------------------------------------------

_HIDDEN_STYLE = re.compile(r"(?:display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d]*[1-9]))\s*;?", re.IGNORECASE)
_NOT_SHOWN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)  # opacity 0 may be a fade-in
_CONTENT_MARK = "data-assistant-content"  # set on an unhidden content container
_HIDDEN_CONTENT_SHARE = 0.5  # a hidden element holding this much of the page's text is its content
_PLUGINS = ("object", "embed", "video", "audio", "canvas", "applet")
_PROSE = re.compile(r"[^。！？!?]{20,}[。！？!?]")
_LIST_ITEM_CHARS = 15  # mean item length of a list that is part of the article (not a menu of links)
# The id or class of a video, audio or Flash player's box ("myFlash", "audio-box", "player-wrap"); not
# "video_title" or "video-news", which may hold the headline or the article.
_PLAYER_BOX = re.compile(r"^(?:my)?(?:(?:video|audio)[_\-]?)?(?:flash|player)(?:[_\-]?(?:box|wrap|area|container|main))?$|"
                         r"^(?:video|audio)[_\-]?(?:box|area|wrap|container|play)$", re.IGNORECASE)  # one class or id word
_READ_MORE = re.compile(r"展开全文|阅读全文|展开剩余|查看全文|点击展开")
_DIALOG = re.compile(r"dialog|modal|popup|pop-up|toast|tips?\b|mask|layer|confirm|alert", re.IGNORECASE)


def _text_chars(element) -> int:
    texts = element.xpath(".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")
    return len(_compact("".join(texts)))


def _prose_chars(element) -> int:
    texts = element.xpath(".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")
    return sum(len(m) for t in texts for m in _PROSE.findall(_compact(t)))


def prepare_tree(tree) -> bool:
    """Fix, in place, the page shapes trafilatura misreads (see the module docstring).

    Returns whether anything changed (the page is then handed to trafilatura re-serialised).
    """
    changed = False
    body = tree.find(".//body")
    body = body if body is not None else tree
    measure = _prose_chars if _prose_chars(body) else _text_chars  # most of the prose, or of the text
    total = measure(body)
    hidden = [e for e in tree.iter() if isinstance(e.tag, str) and _HIDDEN_STYLE.search(e.get("style") or "")]
    folded = bool(_READ_MORE.search(_compact(body.text_content())))  # a "展开全文" control on the page
    for element in hidden:
        if total and measure(element) >= _HIDDEN_CONTENT_SHARE * total:
            element.set("style", _HIDDEN_STYLE.sub("", element.get("style")))  # the content, shown by a script
            element.set(_CONTENT_MARK, "")
            changed = True
        elif (folded and element.getparent() is not None and not _DIALOG.search(_class_words(element))
              and _PROSE.search(_compact(element.text_content()))
              and any(sibling is not element and _PROSE.search(_compact(sibling.text_content()))
                      for sibling in element.getparent() if isinstance(sibling.tag, str))):
            # The rest of the article folded under "展开全文", next to the paragraphs shown.
            element.set("style", _HIDDEN_STYLE.sub("", element.get("style")))
            changed = True
        elif (
            _NOT_SHOWN.search(element.get("style"))
            and element.getparent() is not None
            and not _PROSE.search(_compact(element.text_content()))
        ):
            element.drop_tree()  # a hidden widget, label or dialog: not what the reader sees
            changed = True
    for plugin in tree.xpath("|".join(f"//{tag}" for tag in _PLUGINS)):
        if plugin.getparent() is not None:
            plugin.drop_tree()  # its text is the fallback shown when the plugin is missing
            changed = True
    for box in [e for e in tree.iter() if isinstance(e.tag, str)
                and any(_PLAYER_BOX.match(word) for word in _class_words(e).split())]:
        if box.getparent() is not None and not _PROSE.search(_compact(box.text_content())):
            box.drop_tree()  # a player's box, filled by a script: its own text is a placeholder
            changed = True
    for table in list(tree.iter("table")):
        if not _is_data_table(table):
            _flatten(table)
            changed = True
    for anchor in [a for a in tree.iter("a") if len(a) == 0 and not (a.text or "").strip() and a.getparent() is not None]:
        anchor.drop_tree()  # a named anchor (a table of contents' target) holds nothing, but counts as a link
        changed = True
    prose_children: dict = {}  # parent -> how many of its <p> children are prose (counted once per parent)

    def prose_paragraphs(parent) -> int:
        if parent not in prose_children:
            prose_children[parent] = sum(1 for e in parent if e.tag == "p" and _PROSE.search(_compact(e.text_content())))
        return prose_children[parent]

    for heading in list(tree.iter("h2", "h3", "h4", "h5", "h6")):
        parent = heading.getparent()
        if parent is not None and prose_paragraphs(parent) >= 2:
            heading.tag = "p"  # a subheading among the article's paragraphs (trafilatura may drop an <hN>)
            changed = True
    for listing in list(tree.iter("ol", "ul")):
        items = [li for li in listing if li.tag == "li"]
        parent = listing.getparent()
        if not items or parent is None or any(_compact(a.text_content()) for a in listing.iter("a")):
            continue
        if prose_paragraphs(parent) >= 2 and sum(len(_compact(li.text_content())) for li in items) >= _LIST_ITEM_CHARS * len(items):
            listing.tag = "div"  # items of the article's own list, one paragraph each (trafilatura may drop an <ol>)
            for li in items:
                li.tag = "p"
            changed = True
    for section in list(tree.iter("section")):
        if not any(isinstance(e.tag, str) and e.tag in _BLOCKS for e in section.iterdescendants()) and _compact(section.text_content()):
            section.tag = "p"  # a paragraph written as <section><span>…</span></section> (WeChat editors)
            changed = True
    return changed


_BLOCKS = {"p", "div", "section", "article", "table", "ul", "ol", "li", "dl", "h1", "h2", "h3", "h4", "h5", "h6",
           "blockquote", "figure", "pre", "header", "footer", "aside", "nav", "form"}


def _own_rows(table) -> list:
    return [row for row in table.iter("tr") if next(row.iterancestors("table"), None) is table]


_LAYOUT_CELL = 80  # a cell this long in a table of one or two columns holds the article, not a figure
_PAGE_CELL = 300  # a cell this long holds a page's part, whatever the table


def _is_data_table(table) -> bool:
    """A grid (figures, names, project lists): at least two rows of two or more cells, no table
    inside, not mostly links, no cell long enough to hold the article (in a table of one or two
    columns: a paragraph).  Anything else lays out a page."""
    if any(inner is not table for inner in table.iter("table")):
        return False
    rows = [[c for c in row if c.tag in ("td", "th")] for row in _own_rows(table)]
    rows = [r for r in rows if any(_compact(c.text_content()) for c in r)]
    if len([r for r in rows if len(r) >= 2]) < 2:
        return False
    cells = [_compact(c.text_content()) for r in rows for c in r]
    longest = max(len(c) for c in cells)
    if longest > _PAGE_CELL or (longest > _LAYOUT_CELL and max(len(r) for r in rows) <= 2):
        return False
    text = sum(len(c) for c in cells)
    linked = sum(len(_compact(a.text_content())) for a in table.iter("a"))
    return not text or linked < text / 2


def _flatten(table) -> None:
    """Turn a layout table into blocks: each cell a ``<div>``, so its text is a line of its own."""
    rows = _own_rows(table)
    parts = [table, *(p for p in table if p.tag in ("tbody", "thead", "tfoot", "caption")), *rows]
    parts += [cell for row in rows for cell in row if cell.tag in ("td", "th")]
    for element in parts:
        element.tag = "div"
        for attribute in ("width", "height", "border", "cellpadding", "cellspacing", "colspan", "rowspan", "align", "valign"):
            element.attrib.pop(attribute, None)


def _title_tag(tree) -> str:
    node = tree.find(".//title")
    return normalize_paragraph(node.text_content()) if node is not None else ""


# "标题_网易新闻", "标题|新浪财经_新浪网", "标题--科技--人民网", "标题 - 观察者网", "标题-股票频道-和讯网".
# A doubled dash "——" is part of Chinese headlines ("某某——访某某"), never a separator.
_SITE_SUFFIX = re.compile(r"^(?P<head>.{4,}?)\s*(?:_|\||｜|-{2,}|(?<!—)[-–—](?!—))\s*(?P<site>[^_|｜\-–—。！？!?]{1,16})$")


def strip_site_name(title: str) -> str:
    """``<title>`` text without the site and channel names appended to it."""
    while match := _SITE_SUFFIX.match(title):
        title = match["head"].strip()
    return title


def page_title(tree, extracted: str, first_paragraph: str = "") -> str:
    """The headline: the page's heading that the ``<title>`` names, else og:title, else trafilatura's.

    og:title is checked against the ``<title>``: sites put unescaped quotes in its
    attribute (content="男孩因不想上补习班 写"辞职信"…"), which cuts it at the first quote.
    When the ``<title>`` names only the site (no heading matches it, trafilatura's title is
    the same text) and no og:title helps, the headline is the emphasised short line just
    above the article's ``first_paragraph`` (e-paper pages: a ``<strong>`` in a table cell).
    """
    extracted = normalize_paragraph(extracted)
    if tree is None:
        return strip_site_name(extracted)
    named = _compact(strip_site_name(_title_tag(tree)))
    headings = [normalize_paragraph(h.text_content()) for h in tree.iter("h1", "h2", "h3", "h4")]
    matching = [h for h in headings if len(_compact(h)) >= 4 and named and (_compact(h) in named or named in _compact(h))]
    if matching:
        return max(matching, key=len)
    og = next((normalize_paragraph(v) for v in tree.xpath('//meta[@property="og:title"]/@content') if v.strip()), "")
    if not og and _compact(extracted) == named and first_paragraph:
        texts = _body_texts(tree)
        above = None if named in (_compact(t) for t in texts) else _headline_above(texts, first_paragraph, named)
        if above:  # (a <title> whose text the page shows as a line of its own names the headline)
            return above
    for text in [og, extracted]:
        if not text:
            continue
        longer = [h for h in [strip_site_name(_title_tag(tree)), *headings] if _compact(h).startswith(_compact(text))]
        return max(longer, key=len) if longer else strip_site_name(text)
    return strip_site_name(_title_tag(tree))


_EMPHASIS = ("strong", "b", "h1", "h2", "h3", "h4", "h5", "h6", "font", "big")
_HEADLINE_LOOKBACK = 12  # text pieces above the first paragraph searched for the headline


def _body_texts(tree) -> list:
    """The page's non-blank text pieces in document order (lxml strings that know their element)."""
    return [t for t in tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]") if _compact(t)]


def _headline_above(texts: list, first_paragraph: str, named: str) -> str | None:
    """Among the page's ``texts``, the nearest unlinked short one above the text that opens the
    article that the ``<title>`` (``named``, whitespace-free) contains, or that is emphasised or
    classed a title."""
    start = _compact(first_paragraph)[:12]
    at = next((i for i, t in enumerate(texts) if start and start in _compact(t)), None)
    if at is None:
        return None
    for text in reversed(texts[max(0, at - _HEADLINE_LOOKBACK):at]):
        # lxml gives a tail text the element it follows as "parent": its container is one up.
        parent = text.getparent() if text.is_text else text.getparent().getparent()
        if parent is None:
            continue
        line = normalize_paragraph(str(text))
        if next(parent.iterancestors("a"), None) is not None or parent.tag == "a":
            continue
        if not 6 <= len(_compact(line)) <= 60 or re.search(r"[。！？!?]", line) or _BYLINE_WORDS.search(line):
            continue
        marked = [parent, *parent.iterancestors()][:3]
        if (_compact(line) in named  # "经济日报数字报-县域科技成果转化如何…": the <title> holds it
                or any(e.tag in _EMPHASIS for e in marked) and not re.search(r"[：:]", line)
                or any(_TITLE_CLASS.search(_class_words(e)) for e in marked)):  # td#ArticleTitle
            return line
    return None


_TITLE_CLASS = re.compile(r"(?<!sub)title|headline", re.IGNORECASE)
_BYLINE_WORDS = re.compile(r"记者|通讯员|作者|编辑|来源|责编|通訊員|來源|編輯")
