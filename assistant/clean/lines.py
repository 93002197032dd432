"""Classifiers for single lines of page text: prose, breadcrumbs, widgets, tail markers, list items."""

from __future__ import annotations

import re

from assistant.clean.metadata import _compact, _find_date

# ---------------------------------------------------------------------------------------
# Line classifiers
# ---------------------------------------------------------------------------------------

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
    "反馈", "我要反馈", "举报/反馈", "关注", "+关注", "赞", "踩", "回复", "回覆", "发表", "发布", "小字号", "大字号",
    "留言", "写留言", "发表评论", "我要评论",
}
# A prompt to open or install the site's app, wherever it sits in a short line.
# Not "下载安装“国家反诈中心”APP": an article may tell readers to install an app it names.
_APP_PROMPT = re.compile(r"(?:打开|下载)\s*[^，,。“”]{0,12}?(?:APP|App|app|客户端)\s*(?:[，,、]?\s*(?:阅读|查看|看|获取|了解|体验|抢先|立即|"
                         r"即时|关注|掌握|参与)|$)"  # "打开湖北日报客户端，阅读更多精彩", "打开App 即时掌握…"
                         r"|^打开\S{2,10}\s+(?:查看|阅读)\S{0,8}$")  # "打开网易新闻 查看精彩图片"
_WIDGET_SPLIT = re.compile(r"[\s【】\[\]()（）|｜>»·•:：]+")  # "【字体：大 中 小】"
_WIDGET_SUFFIX = re.compile(r"(微博|微信|公众号|客户端|下载|二维码|APP|App|app)$")


# Lines that lead to another page: "上一篇：某某", "下一篇 某某", "分享让更多人看到".
_NAV_PREFIX = re.compile(r"^[«‹<]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇)|^分享(?!.*[，。])")


# The empty state of a comment box: "暂无评论，说点什么吧", "快来抢沙发".
_COMMENT_PROMPT = re.compile(r"暂无评论|抢沙发|说点什么吧|还没有(?:人)?(?:评论|留言)|发表你的(?:看法|评论)")


# A prompt to follow the site: "#欢迎关注某某官方微信公众号…", "追踪某某Google新闻，第一手掌握…".
_FOLLOW_PROMPT = re.compile(r"^[#＃]?\s*(?:(?:欢迎|请|扫码|点击|长按\S{0,6})关注|追踪|订阅)(?:我们|本号)?.{0,16}"
                            r"(?:公众号|微信号|微博|Google新闻|频道|官方号)")


def _is_widget(line: str) -> bool:
    """A line of buttons/labels ("投稿", "【字号 大 中 小】", "分享到：微信 微博", "X网微博")."""
    if len(line) <= 40 and _NAV_PREFIX.match(line):
        return True
    if len(line) <= 20 and _COMMENT_PROMPT.search(line):
        return True
    if len(line) <= 80 and _FOLLOW_PROMPT.search(line):
        return True
    tokens = [t for t in (t.strip(":：") for t in _WIDGET_SPLIT.split(line)) if t]
    if all(t in _WIDGET_WORDS or t.startswith("分享到") for t in tokens):  # also true for bare punctuation
        return True
    bare = "".join(tokens)
    if len(bare) <= 40 and not _SENTENCE_END.search(line) and _APP_PROMPT.search(line.lstrip("> ")):
        return True
    return len(bare) <= 12 and not _SENTENCE_END.search(line) and bool(_WIDGET_SUFFIX.search(bare))


# Words that open the block after the article: disclaimers and related-link/navigation blocks...
_TAIL_WORDS = (
    "(?:版权|免责|法律|特别)[和及与、]?(?:免责|版权)?声明|版权所有|声明|原文链接|原文地址|精彩推荐|推荐阅读|相关阅读|相关新闻|"
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
# The end of the article: "（完）", "【完】", "—完—", and WeChat's "END", "- THE END -".
_END_MARK = re.compile(r"^[\[【(（—\-\s]*(?:完|(?:THE\s*)?END)\s*[\]】)）—\-\s]*$", re.IGNORECASE)


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
# Lines of recommendation lists and comment widgets
# ---------------------------------------------------------------------------------------

# The timestamp of a list entry.  Dash/slash dates and clock times are never how Chinese
# prose writes a date, so they count wherever they are; "2023年5月6日" only when set apart
# by spaces (in prose it is glued to the sentence: "会议于2023年5月6日召开").
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
_STAMP = re.compile(
    rf"(?:\d{{4}}[-/.])?\d{{1,2}}[-/.]\d{{1,2}}(?:\s*{_CLOCK})?|(?:今天|昨天|前天)\s*{_CLOCK}|{_CLOCK}"
    r"|\d+\s*(?:秒|分钟|小时|天|周|个月)前|刚刚"
)
_SPACED_DATE = re.compile(r"(?:^|(?<=\s))\d{4}年\d{1,2}月\d{1,2}日(?=\s|$)")
_SOURCE_ROOM = 16  # a source name and counts after the timestamp: "中国雷人秀", "河南商报 · 56评论"
_LIST_DOT = re.compile(r"^(?:[-–•·●◆◇▪■□○►▶*+]\s*)+")  # trafilatura writes <li> as "- "


def _stamp(line: str) -> re.Match[str] | None:
    for pattern in (_STAMP, _SPACED_DATE):
        for match in pattern.finditer(line):
            if pattern is _SPACED_DATE or _find_date(match.group()) or not re.fullmatch(r"\d{1,2}[-/.]\d{1,2}", match.group()):
                return match  # a bare "3.5" / "1-8" is a number or a range, not a stamp
    return None


def _is_stamp_line(line: str) -> bool:
    """Only a timestamp, maybe with a source and counts: "2019-09-09 19:28 中国雷人秀", "3小时前"."""
    stamp = _stamp(line)
    if not stamp or _SENTENCE_END.search(line):
        return False
    rest = _LIST_DOT.sub("", line[: stamp.start()] + line[stamp.end() :])
    return len(_compact(rest)) <= _SOURCE_ROOM and not re.search(r"[，,：:]\S", rest)


def _is_stamped_headline(line: str) -> bool:
    """A headline with its timestamp: "- 万元背包遗落请店方暂存… 2019-09-09 19:28 中国雷人秀"."""
    stamp = _stamp(line)
    if not stamp or len(line) > 90 or re.search(r"[。；;]", line):
        return False
    head, tail = _LIST_DOT.sub("", line[: stamp.start()]).strip(), line[stamp.end() :].strip()
    if not head:  # "2024-12-09 某某": the headline after the date, not opening a clause
        return 4 <= len(tail) <= 60 and not re.match(r"[，,：:、]", tail)
    return 4 <= len(head) <= 60 and len(_compact(tail)) <= _SOURCE_ROOM and not head.endswith(("：", ":"))


# Counters of comment and share widgets: "已有123人参与", "12 条评论", "1234评", "阅读 12.3万",
# "为您推荐了12篇文章", "3 則留言", "评论 5".  A count glued to a measure word, or ending the line.
_COUNTER = re.compile(r"\d[\d,.]*\s*[万wW+]?\s*(?:人|条|條|篇|次|评|評|则|則|赞|讚|楼|樓)|\d[\d,.]*\s*[万wW+]?$")
_COUNTER_WORDS = 8  # the words around a count in such a widget


def _is_counter(line: str) -> bool:
    if len(line) > 24 or _SENTENCE_END.search(line) or _find_date(line) or not _COUNTER.search(line):
        return False
    words = _COUNTER.sub("", line)
    return len(re.sub(r"[\s:：|｜·•()（）【】\[\]]", "", words)) <= _COUNTER_WORDS and not line.startswith("第")


def _linked_share(line: str, linked: frozenset[str]) -> float:
    """Share of the line's characters inside link texts of its page (longest links first)."""
    if not linked:
        return 0.0
    rest = compact = _compact(_LIST_DOT.sub("", line))
    if not compact:
        return 0.0
    if compact in linked:
        return 1.0
    for anchor in sorted((a for a in linked if a in rest), key=len, reverse=True):
        rest = rest.replace(anchor, "\0")
    return 1 - len(rest.replace("\0", "")) / len(compact)
