"""Metadata found in page text: dates, "来源:X 编辑:Y" lines, bylines, editors, original titles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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



_HAN = "\u4e00-\u9fff\u3400-\u4dbf"


# ---------------------------------------------------------------------------------------
# Metadata lines
# ---------------------------------------------------------------------------------------

_META_FIELDS = {
    "本文来源": "source", "文章来源": "source", "稿件来源": "source", "来源": "source", "稿源": "source",
    "出处": "source", "发布时间": "date", "发布日期": "date", "更新时间": "date", "时间": "date",
    "日期": "date", "作者": "author", "记者": "author", "撰文": "author", "责任编辑": "editor",
    "值班编辑": "editor", "编辑": "editor", "责编": "editor", "原文链接": "url", "原文地址": "url",
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
    original_title: str | None = None

    def offer(self, field: str, value: str | None) -> None:
        if value and getattr(self, field) is None:
            setattr(self, field, value)


def _read_meta_line(line: str, meta: _Metadata, *, require_key_at_start: bool = False) -> bool:
    """If ``line`` is a metadata line ("21-08-26 08:37 来源:X 编辑:Y"), record its fields.

    Returns whether it was one.  ``require_key_at_start`` is for tail lines, where a key in
    mid-line is usually quoted prose ("凡本网注明“来源:XX”的作品…").
    """
    if len(line) > 150 or re.search(r"[。！？!?，]", line):  # a comma: a sentence that names its source
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
        if field == "editor":
            value = _EDITOR_CODE.sub("", value)
        if field == "author":
            value = _names(value) or ""
        meta.offer(field, value or None)
    return True


# A Chinese name, or a transliterated one ("米夏埃尔·舒曼").
_NAME = rf"(?:[{_HAN}]{{1,6}}·[{_HAN}·]{{1,10}}|[{_HAN}]{{2,5}})"
_ROLE_WORDS = re.compile(r"(通讯员|实习生|摄影|摄|报道|整理|编译)")
# "新甘肃·甘肃日报记者 李满福", "本报记者 张三 通讯员 李四", "作者：张三", "文/张三"
_BYLINE = re.compile(
    rf"^[□■◎●◆▲]?\s*(?:[^。，,]{{0,20}}?(?:记者|作者|撰文|通讯员)|文\s*(?=[:：/｜|]))\s*[:：/｜|]?\s*"
    rf"(?P<names>{_NAME}(?:[\s、，,]+{_NAME})*)"
)


# "广州报道", "发自北京", "北京电", "／台北报导" closing a byline: where the reporter filed from.
_DATELINE_END = re.compile(rf"(?:\s+|\s*[／/]\s*)(?:[{_HAN}]{{1,6}}(?:报道|报导|电)|发自[{_HAN}]{{1,8}})$")  # "／台北报导"


def _names(text: str) -> str | None:
    """Person names from a byline value: "张三 李四 通讯员 王五" -> "张三、李四"."""
    text = _ROLE_WORDS.split(_DATELINE_END.sub("", text.strip()))[0]  # "林晓 广州报道": not 广州
    names = [n for n in re.split(r"[\s、，,]+", text) if re.fullmatch(_NAME, n)]
    return "、".join(names) or None


def _read_byline(line: str, meta: _Metadata) -> bool:
    """A line that is only a byline ("新甘肃·甘肃日报记者 李满福", "文/张三"): record the author."""
    line = line.strip("【】[] ")  # "【文/观察者网 王世纯】"
    if len(line) > 40 or re.search(r"[。！？!?，,；;]", line):
        return False
    line = _DATELINE_END.sub("", line).strip()  # "… 林晓 广州报道": the place is not a name
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



# Desk codes some sites append to editor names: "王晓易_NE0011", "李杰 PN070", "王治强 HF044".
_EDITOR_CODE = re.compile(r"[_\s]*[A-Za-z]{1,4}\d{2,}$")
_OPEN, _CLOSE = r"\[【(（", r"\]】)）"
# "责任编辑：王晓易_NE0011", "（责编：杨虞波罗、陈键）", "[责任编辑：李杰 PN070]", "审核：X"
_CREDIT_LINE = re.compile(
    rf"^[{_OPEN}]?\s*(?P<key>责任编辑|值班编辑|责编|编辑|主编|审核|审校|校对|监制|复审|终审)\s*[:：]\s*(?P<value>[^{_CLOSE}]*?)\s*[{_CLOSE}]?$"
)
_ORIGINAL_TITLE = re.compile(rf"^(?P<open>[{_OPEN}])?\s*(?:原标题\s*[:：]?|(?:原题|杂志标题)\s*[:：])\s*(?P<value>.+?)\s*(?(open)[{_CLOSE}]|)$")


# A line of credits only: "（作者：林晓 编辑：陈思）", "栏目主编：王志彦 文字编辑：黄晓雯",
# "题图来源：受访者供图 图片编辑：雍凯", "编辑邮箱：kc@example.com". Two or more pairs, or one
# in brackets, or one naming an editing role. Role qualifiers are listed, not any word before
# 编辑: "基因编辑：一把双刃剑" is a subheading.
_ROLE_QUALIFIER = r"(?:责任|值班|文字|图片|视频|美术|栏目|执行|新媒体|网络|融媒|本版|特约)?"
_EDITING_ROLE = rf"{_ROLE_QUALIFIER}(?:编辑|主编|编审|审核|审校|初审|复审|终审|校对|监制|制图)"
_CREDIT_KEYS = rf"作者单位|作者|记者|通讯员|摄影|摄像|文字|图片|{_EDITING_ROLE}|(?:图片|题图|视频)来源|编辑邮箱|投稿邮箱"
_CREDIT_PAIR = rf"(?P<key>{_CREDIT_KEYS})\s*[:：]\s*(?P<value>[\w.@\-·\u4e00-\u9fff]{{1,30}})"
_ANY_PAIR = _CREDIT_PAIR.replace("?P<key>", "?:").replace("?P<value>", "?:")
_CREDITS_ONLY = re.compile(rf"^(?:[{_OPEN}]\s*(?:{_ANY_PAIR}\s*)+[{_CLOSE}]|(?:{_ANY_PAIR}\s*){{2,}}|"
                           rf"(?:{_EDITING_ROLE}|(?:图片|题图|视频)来源)\s*[:：]\s*[^:：\s]{{1,20}}|"
                           rf"[{_OPEN}]\s*(?:(?:{_EDITING_ROLE}|记者|作者|通讯员)\s+{_NAME}\s*){{2,}}[{_CLOSE}]|"  # （编辑 王凯 校对 李娜）
                           rf"(?:编辑|投稿)邮箱\s*[:：]\s*\S+@\S+)$")


# Where a reprint first ran: "《工人日报》（2024年06月18日 A05版）", "《人民日报》2024年3月5日第6版",
# "发于2025.6.2总第1190期《中国新闻周刊》杂志".
_PRINT_EDITION = re.compile(r"^(?:来源[:：]\s*)?《(?P<paper>[^》]{2,16})》\s*[（(]?\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
                            r"\s*(?:第?\s*[A-Za-z]?\d{1,3}\s*版)?\s*[）)]?$"  # "05版", "A05版", "第6版"
                            r"|^[（(]?发于\s*[\d.年月日\s]{6,14}\s*总第\s*\d+\s*期\s*《(?P<magazine>[^》]{2,16})》\s*(?:杂志)?[）)]?$"
                            r"|^[（(]?(?:本文)?(?:原)?(?:刊|载|刊载|刊发|发表)于\s*《(?P<journal>[^》]{2,16})》\s*(?:杂志)?"
                            r"\s*\d{4}\s*年\s*第?\s*\d{1,3}\s*期[）)]?$")  # "本文刊于《人民论坛》杂志2024年第9期"


def _editor_name(value: str) -> str | None:
    """An editor credit's value without the site's desk code ("王晓易_NE0011" -> "王晓易")."""
    return _EDITOR_CODE.sub("", value).strip(_VALUE_JUNK) or None


def _read_credit_line(line: str, meta: _Metadata) -> bool:
    """An editor credit, an original-title line or a print-edition line, wherever it is:
    record it, it is not article text."""
    edition = _PRINT_EDITION.match(line)
    if edition:
        meta.offer("source", edition["paper"] or edition["magazine"] or edition["journal"])
        return True
    match = _ORIGINAL_TITLE.match(line)
    if match and len(line) <= 100:
        meta.offer("original_title", match["value"])
        return True
    if len(line) <= 60 and not re.search(r"[。！？!?，,；;]", line) and _CREDITS_ONLY.match(line):
        for pair in re.finditer(_CREDIT_PAIR, line):
            if pair["key"] in ("作者", "记者", "通讯员"):
                meta.offer("author", _names(pair["value"]))
            elif pair["key"] in ("编辑", "责任编辑", "责编", "文字编辑"):
                meta.offer("editor", _editor_name(pair["value"]))
        return True
    match = _CREDIT_LINE.match(line)
    if not match or len(line) > 40 or re.search(r"[。！？!?]", match["value"]):
        return False
    if "编" in match["key"]:
        meta.offer("editor", _editor_name(match["value"]))
    return True
