"""Tests for assistant.ingest and assistant.clean: seed pages, unseen pages, encodings, formats."""

from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest

from assistant.clean import clean_page_text, normalize_date
from assistant.ingest import (
    IngestError,
    decode_bytes,
    find_source_files,
    load_article,
    load_articles,
    read_article,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "data" / "ingest"


@pytest.fixture(scope="module")
def seed() -> dict:
    return {article.doc_id: article for article in load_articles([CORPUS])}


# ---------------------------------------------------------------------------------------
# Seed corpus: metadata
# ---------------------------------------------------------------------------------------

SEED_METADATA = {
    "000_dbc8066ea398bbda": dict(
        title="探寻科技创新“密码”——甘肃省组建创新联合体让企业行稳致远",
        date="2021-08-26T08:37",
        source="中国甘肃网-甘肃日报",
        author="李满福",
        editor="张玉芳",
        url=None,
    ),
    "001_2c62cb16d225f48b": dict(
        title="内蒙古积极构建企业主导的融通创新生态",
        date=None,
        source=None,
        author=None,
        editor=None,
        url="http://zrzy.nmg.gov.cn/zwgk/kjgz/202208/t20220812_2102365.html",
    ),
    "002_68f5f858734ec20b": dict(
        title="【学习贯彻省委十四届九次全会精神】推动科技创新和产业创新深度融合",
        date="2026-01-30T12:31:17",
        source="每日甘肃网-甘肃日报",
        author="李振佑",  # the lone name line under the repeated headline
        editor=None,
        url=None,
    ),
    "003_2f6fc9060b9f45a6": dict(
        title="实干当先 全力为强省会行动打造科创引擎——访兰州市科技局党组书记、局长张贞祥",
        date="2023-09-06T09:11:04",
        source="中国甘肃网-兰州日报",
        author="华静",  # "(记者 华静)" closing the last paragraph
        editor=None,
        url=None,
    ),
    "004_111ded2fd1d310bd": dict(
        title="权威访谈·全会精神看落实|代萍:提升科技创新体系整体效能",
        date="2024-12-09",  # from the site's own news list entry for this article
        source="遂宁观察",
        author=None,
        editor=None,  # "责任编辑:" with no value
        url=None,
    ),
}


def test_all_seed_files_load_sorted(seed):
    assert list(seed) == sorted(SEED_METADATA)


@pytest.mark.parametrize("doc_id", sorted(SEED_METADATA))
def test_seed_metadata(seed, doc_id):
    article = seed[doc_id]
    expected = SEED_METADATA[doc_id]
    got = {field: getattr(article, field) for field in expected}
    assert got == expected
    assert article.path == str(CORPUS / f"{doc_id}.txt")


# ---------------------------------------------------------------------------------------
# Seed corpus: junk removed
# ---------------------------------------------------------------------------------------

JUNK_EVERYWHERE = [
    "精彩推荐", "即时播报", "版权声明", "特别声明", "免责声明", "分享到", "栏目导航", "推荐阅读",
    "热点推荐", "最新加入", "热门资讯", "关注我们", "您当前的位置", "投稿", "精选图文", "阅读排行榜",
    "品牌栏目", "原文链接", "本文来源", "责任编辑", "来源/", "来源:", "时间/", "http",
]
JUNK_PER_FILE = {
    "000_dbc8066ea398bbda": [
        "甘肃新闻 >> 甘肃经济", "编辑:张玉芳", "新甘肃·甘肃日报记者", "尹弘会见郁亮一行",
        "甘肃省人社厅:打造人才成长", "中国甘肃网微博", "甘肃头条下载", "微博甘肃", "21-08-26",
    ],
    "001_2c62cb16d225f48b": ["江西天皓房地产", "致上饶市政府陈云市长", "2023年上半年土地", "颗粒归仓", "本网联系"],
    "002_68f5f858734ec20b": ["甘肃文化产业网为公益性网站", "2026-01-30", "李振佑"],
    "003_2f6fc9060b9f45a6": ["甘肃文化产业网为公益性网站", "2023-09-06"],
    "004_111ded2fd1d310bd": [
        "凡本网注明", "请在30日内进行", "我国第三次全国土壤普查", "数智助力基层纠纷源头化解",
        "遂宁观察", "2024-12-0",
    ],
}


@pytest.mark.parametrize("doc_id", sorted(SEED_METADATA))
def test_seed_text_has_no_page_junk(seed, doc_id):
    text = seed[doc_id].text
    leaked = [junk for junk in JUNK_EVERYWHERE + JUNK_PER_FILE[doc_id] if junk in text]
    assert leaked == []


@pytest.mark.parametrize("doc_id", sorted(SEED_METADATA))
def test_seed_headline_is_not_repeated_in_text(seed, doc_id):
    article = seed[doc_id]
    assert article.title not in article.text
    first_line = article.text.split("\n")[0]
    assert first_line not in article.title


# ---------------------------------------------------------------------------------------
# Seed corpus: no article sentence lost
# ---------------------------------------------------------------------------------------

# First and last paragraphs, section headings, quotes and closing lines, per file.
KEY_LINES = {
    "000_dbc8066ea398bbda": [
        "近日,省委、省政府出台《关于深化科技体制机制改革创新推动高质量发展的若干措施》",
        "政府引导,组建创新联合体",
        "集聚资源,补短板强链条",
        "企业出题,高校院所攻关",
        "让联合体享受更多政策福利。",
    ],
    "001_2c62cb16d225f48b": [
        "创新链产业链融合,关键是要确立企业创新主体地位。",
        "——摘自习近平总书记在中国科学院第二十次院士大会",
        "自治区科技厅还开通了创新联合体网上备案绿色通道",
        "促进产学研融通创新、良性发展。",
    ],
    "002_68f5f858734ec20b": [
        "省委十四届九次全会明确提出,推动科技创新和产业创新深度融合。",
        "增加高质量科技供给。",
        "作者为省委党校(甘肃行政学院)马克思主义学院院长、教授",
    ],
    "003_2f6fc9060b9f45a6": [
        "“作为科技管理部门,市科技局将时刻牢记",
        "搭建创新平台 加快推动关键技术攻关",
        "培育创新主体 加速科技成果转化工作",
        "打好“引育服用”组合拳 为强省会赋能聚力",
        "对我市科技创新工作的支持。(记者 华静)",
    ],
    "004_111ded2fd1d310bd": [
        "——专访市科技局党组书记、局长代萍",
        "记者:全会提出,要强化企业科技创新主体地位",
        "全市技术合同认定登记额达17.73亿元",
        "营造尊重科学、崇尚创新的浓厚氛围。",
    ],
}


def test_seed_original_titles_are_metadata_not_text(seed):
    """An "原标题:X" line (and the subtitle line under it) is metadata: the headline the article first ran under."""
    assert seed["000_dbc8066ea398bbda"].original_title == "探寻科技创新“密码”——我省组建创新联合体让企业行稳致远"
    assert seed["003_2f6fc9060b9f45a6"].original_title == "实干当先 全力为强省会行动打造科创引擎"
    assert all("原标题" not in article.text for article in seed.values())
    assert "——我省组建创新联合体让企业行稳致远" not in seed["000_dbc8066ea398bbda"].text


@pytest.mark.parametrize("doc_id", sorted(SEED_METADATA))
def test_seed_key_lines_kept(seed, doc_id):
    text = seed[doc_id].text
    assert [line for line in KEY_LINES[doc_id] if line not in text] == []


# Prose lines of the raw pages that are notices, not article text.
DISCLAIMER_PREFIXES = ("版权声明", "特别声明", "[免责声明]", "1、凡本网")


@pytest.mark.parametrize("doc_id", sorted(SEED_METADATA))
def test_seed_every_prose_paragraph_kept_whole(seed, doc_id):
    """Every long sentence-bearing raw line (other than notices) is a paragraph of the text."""
    paragraphs = set(seed[doc_id].text.split("\n"))
    raw_lines = (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8").split("\n")
    prose = [
        re.sub(r"\s+", " ", line).strip()  # the cleaner collapses whitespace runs (nbsp, \u3000)
        for line in raw_lines
        if len(line.strip()) >= 40 and "。" in line and not line.strip().startswith(DISCLAIMER_PREFIXES)
    ]
    assert prose, "fixture sanity: every seed page has prose"
    assert [line[:30] for line in prose if line not in paragraphs] == []


def test_seed_text_format(seed):
    for article in seed.values():
        for paragraph in article.text.split("\n"):
            assert paragraph, f"{article.doc_id}: empty paragraph"
            assert paragraph == paragraph.strip(" \t\u3000\xa0"), f"{article.doc_id}: untrimmed {paragraph[:20]!r}"
            assert "  " not in paragraph and "\r" not in paragraph


# ---------------------------------------------------------------------------------------
# Pages from other sites
# ---------------------------------------------------------------------------------------


def test_unseen_site_page_is_cleaned():
    article = load_article(FIXTURES / "unseen_site.txt")
    assert article.title == "滨海市启动老旧小区改造三年行动"
    assert (article.source, article.date, article.author, article.editor) == ("滨海日报", "2023-05-06", "赵六", "王五")
    assert article.text.split("\n") == [
        "5月5日，滨海市政府召开新闻发布会，宣布启动老旧小区改造三年行动，计划到2025年底完成全市1200个老旧小区改造任务。",
        "改造内容分三类",
        "基础类改造主要包括供水、排水、供电、道路等设施更新，预计惠及居民15万户。",
        "“我们将坚持居民自愿、政府引导的原则。”市住建局局长孙七表示，改造方案将充分征求居民意见。",
    ]


def test_headline_list_without_heading_is_cut_but_list_inside_body_kept():
    raw = "\n".join(
        [
            "全省春耕备耕工作有序推进",
            "发布时间：2024/03/02 10:15 来源：农业农村厅",
            "连日来，全省各地抢抓农时，组织农户开展春耕备耕，农资供应总体充足，价格基本稳定。",
            "主要措施包括：",
            "1. 提高农机购置补贴标准",
            "2. 简化补贴审批流程",
            "3. 加强农资市场监督检查",
            "农户普遍反映，新的补贴政策让购买农机更加方便，春耕生产积极性明显提高。",
            "1   全省农村人居环境整治现场会召开",
            "2   我省新增一批省级农业产业园",
            "3   小麦新品种示范推广取得成效",
        ]
    )
    page = clean_page_text(raw)
    assert page.title == "全省春耕备耕工作有序推进"
    assert (page.date, page.source) == ("2024-03-02T10:15", "农业农村厅")
    lines = page.text.split("\n")
    assert lines[1:5] == ["主要措施包括：", "1. 提高农机购置补贴标准", "2. 简化补贴审批流程", "3. 加强农资市场监督检查"]
    assert lines[-1].startswith("农户普遍反映")
    assert "产业园" not in page.text


def test_byline_and_end_mark():
    raw = "\n".join(
        [
            "我国首条跨海高铁全线贯通",
            "2023年9月28日 14:30",
            "本报记者 陈十一 通讯员 林十二",
            "9月28日，我国首条跨海高铁全线贯通，沿线城市间最短通行时间缩短至半小时以内。",
            "（完）",
            "打印本页 关闭窗口",
        ]
    )
    page = clean_page_text(raw)
    assert (page.date, page.author) == ("2023-09-28T14:30", "陈十一")
    assert page.text == "9月28日，我国首条跨海高铁全线贯通，沿线城市间最短通行时间缩短至半小时以内。"


def test_meta_line_above_headline():
    page = clean_page_text("2023-05-06 10:00 来源：某报\n某市举办科技活动周\n本次活动周共举办各类科普活动200余场，吸引市民超过10万人次参与。\n编辑：甲乙")
    assert (page.title, page.date, page.source, page.editor) == ("某市举办科技活动周", "2023-05-06T10:00", "某报", "甲乙")
    assert page.text == "本次活动周共举办各类科普活动200余场，吸引市民超过10万人次参与。"


def test_credit_word_opening_a_sentence_is_not_a_tail():
    page = clean_page_text("统计公报发布\n全年国内生产总值比上年增长5.2%，经济运行总体回升向好。\n来源：国家统计局。数据显示，全年粮食产量再创新高。\n相关阅读\n· 某某")
    assert page.text.split("\n")[-1] == "来源：国家统计局。数据显示，全年粮食产量再创新高。"


def test_a_footer_line_followed_by_more_article_prose_does_not_end_the_article():
    body = [
        "遂宁市出台若干政策，推动科技成果就地转化，技术合同认定登记额持续增长，成效十分明显。",
        "遂宁市还将建设一批中试平台，打通成果转化最后一公里，为企业提供全链条的服务和支持。",
        "全市高新技术企业数量稳步增长，创新主体不断壮大，区域创新能力持续提升，发展后劲增强。",
    ]
    raw = "\n".join(["遂宁推进成果转化", "来源：遂宁日报 2024-03-01", body[0], "声明：本文为遂宁日报原创", *body[1:],
                     "版权声明：本网所有稿件未经授权不得转载。", "精彩推荐", "1 某地举行运动会"])
    page = clean_page_text(raw)
    assert page.text == "\n".join(body)  # the stray footer line is dropped, the article goes on to its real end


def test_a_footer_followed_by_boilerplate_prose_still_ends_the_article():
    raw = "\n".join(["某市举办科技活动周", "本次活动周共举办各类科普活动200余场，吸引市民超过10万人次参与，反响热烈。",
                     "版权声明：", "凡本网注明来源的作品，版权均属本网所有，未经授权不得转载、摘编或以其他方式使用。",
                     "如需转载请联系我们，联系电话010-12345678，违者本网将依法追究其法律责任，特此声明。"])
    assert clean_page_text(raw).text == "本次活动周共举办各类科普活动200余场，吸引市民超过10万人次参与，反响热烈。"


@pytest.mark.parametrize(
    "text, iso",
    [
        ("21-08-26 08:37", "2021-08-26T08:37"),
        ("时间/2026-01-30 12:31:17", "2026-01-30T12:31:17"),
        ("2024年12月9日", "2024-12-09"),
        ("2024/12/09", "2024-12-09"),
        ("发布于 2023.5.6 9:05", "2023-05-06T09:05"),
        ("2024-13-45", None),
        ("没有日期", None),
    ],
)
def test_normalize_date(text, iso):
    assert normalize_date(text) == iso


# ---------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------

LONG_SIMPLIFIED = (
    "兰州作为国家重要的科研教育基地，富集了全省70%以上的科教资源，全省两院院士全部在兰，"
    "省部级及以上科创平台占全省70%以上，国家高新技术企业约占全省六成，拥有全省一半以上的高等院校，"
    "在核物理、石油化工、航空航天、旱作农业、防沙治沙等领域形成了一批优势学科群。"
    "企业是创新的主体，也理应成为主力军。市科技局将围绕产业链、设计创新链形成招商链，"
    "循链引进更多创新能力突出、发展势头强劲、带动作用明显的科技型企业。"
    "深入实施科技创新企业梯度培育计划，强化定向扶持、扩量提质，每年新认定高新技术企业200家以上。"
    "招才引智，事关一座城市、一个国家的发展大计。市科技局将坚持人才第一资源，做好人才四篇文章。"
)
SHORT_SIMPLIFIED = [
    "省科技厅会同省工信厅印发管理办法。",
    "科技创新能力是企业的核心竞争力，组建企业创新联合体。",
    "全市技术合同认定登记额达17.73亿元、同比增长33.21%。",
    "支持龙头企业牵头组建创新联合体，布局一批企业研究院。",
]
TO_TRADITIONAL = opencc.OpenCC("s2tw")  # Taiwan forms (為, not 爲) are the ones Big5 has


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "gbk", "gb18030", "big5"])
@pytest.mark.parametrize("text", [LONG_SIMPLIFIED, *SHORT_SIMPLIFIED], ids=["long", "short1", "short2", "short3", "short4"])
def test_decode_chinese_encodings(codec, text):
    if codec == "big5":
        text = TO_TRADITIONAL.convert(text)
    assert decode_bytes(text.encode(codec), Path("x.txt")) == text


def test_load_gbk_file_with_crlf(tmp_path):
    raw = (CORPUS / "003_2f6fc9060b9f45a6.txt").read_text(encoding="utf-8")
    path = tmp_path / "003_2f6fc9060b9f45a6.txt"
    # GBK has no nbsp; the cleaner turns it into a plain space anyway.
    path.write_bytes(raw.replace("\xa0", " ").replace("\n", "\r\n").encode("gbk"))
    assert load_article(path).text == load_article(CORPUS / path.name).text


def test_utf8_bom_and_newlines_normalised():
    data = "\ufeff第一行\r\n第二行\r第三行".encode("utf-8")
    assert decode_bytes(data, Path("x.txt")) == "第一行\n第二行\n第三行"


def test_binary_file_rejected(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    with pytest.raises(IngestError, match=r"image\.txt.*binary"):
        load_article(path)


def test_a_utf16_mark_on_bytes_that_are_not_utf16_is_an_ingest_error(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(b"\xff\xfe" + "甘肃".encode("utf-16-le") + b"\x00")  # odd length: truncated
    with pytest.raises(IngestError, match=r"broken\.txt.*UTF-16"):
        load_article(path)


@pytest.mark.parametrize("content", ["", "  \n\u3000\n\t "])
def test_empty_file_rejected(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=r"empty\.txt.*empty"):
        load_article(path)


def test_page_with_only_navigation_rejected(tmp_path):
    path = tmp_path / "nav.txt"
    path.write_text("首页 > 新闻 > 本地\n分享到\n精彩推荐\n1   某某新闻标题\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"nav\.txt.*no article text"):
        load_article(path)


# ---------------------------------------------------------------------------------------
# Files and folders
# ---------------------------------------------------------------------------------------


def test_find_source_files_recurses_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".cache").mkdir()
    for name in ["b/2.md", "a.txt", "c.htm", ".hidden.txt", ".cache/x.txt", "notes.pdf"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = find_source_files([tmp_path, tmp_path / "a.txt"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.txt", "b/2.md", "c.htm"]


def test_missing_path_rejected(tmp_path):
    with pytest.raises(IngestError, match=r"nope\.txt.*no such file"):
        find_source_files([tmp_path / "nope.txt"])


def test_unsupported_suffix_rejected(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.7")
    with pytest.raises(IngestError, match=r"report\.pdf.*unsupported"):
        find_source_files([path])


def test_folder_without_articles_rejected(tmp_path):
    (tmp_path / "readme.pdf").write_bytes(b"%PDF")
    with pytest.raises(IngestError, match=r"no \.txt"):
        find_source_files([tmp_path])


def test_duplicate_doc_ids_rejected_naming_both(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text("标题\n正文第一句，内容足够长，用来组成一个完整的段落。", encoding="utf-8")
    with pytest.raises(IngestError) as error:
        load_articles([tmp_path])
    message = str(error.value)
    assert "x/same.txt" in message and "y/same.txt" in message and "\n" not in message


# ---------------------------------------------------------------------------------------
# HTML and markdown
# ---------------------------------------------------------------------------------------


def test_html_main_content_and_metadata():
    article = load_article(FIXTURES / "news_page.html")
    assert article.title == "河湾县建成首个数字农业示范园"
    assert (article.date, article.source, article.author, article.editor) == ("2024-03-15", "河湾新闻网", "钱八", "周九")
    assert article.url == "https://news.hewan.example.cn/2024/0315/a1.html"
    paragraphs = article.text.split("\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("3月14日，河湾县首个数字农业示范园正式投入使用")
    assert paragraphs[-1].endswith("力争三年内在全县推广数字农业技术面积超过五万亩。")
    for junk in ("首页", "本地新闻", "您的位置", "版权所有", "关于我们", "责任编辑"):
        assert junk not in article.text


def test_markdown_title_and_markup_stripped():
    article = load_article(FIXTURES / "policy_note.md")
    assert article.title == "关于支持中小企业数字化转型的若干措施"
    assert article.text.split("\n") == [
        "发布单位：某市工业和信息化局",
        "一、总体要求",
        "到2026年，全市规模以上工业企业数字化转型覆盖率达到80%，详见政策原文。",
        "二、主要措施",
        "对企业购买工业软件给予30%的补贴，单个企业最高50万元。",
        "支持建设一批数字化转型促进中心。",
        "本措施自发布之日起施行，有效期三年。",
    ]
    assert not re.search(r"[#*\[\]>]", article.text)


def test_mixed_folder_loads_every_format():
    articles = load_articles([FIXTURES])
    assert [a.doc_id for a in articles] == ["news_page", "policy_note", "unseen_site"]
    assert all(a.text and a.title for a in articles)


def test_a_traditional_page_is_cleaned_like_its_simplified_twin_and_keeps_its_script(tmp_path):
    from assistant.text import to_simplified

    s2t = opencc.OpenCC("s2t")
    source = CORPUS / "000_dbc8066ea398bbda.txt"
    twin = tmp_path / "000_traditional.txt"
    twin.write_text(s2t.convert(source.read_text(encoding="utf-8")), encoding="utf-8")
    simplified, traditional = load_article(source), load_article(twin)
    assert to_simplified(traditional.text) == simplified.text  # the same furniture went
    assert to_simplified(traditional.title) == simplified.title
    assert "組建" in traditional.text and "组建" not in traditional.text  # in its own script
    assert traditional.source == s2t.convert(simplified.source) and traditional.date == simplified.date


def test_read_article_says_how_much_of_the_page_it_kept(tmp_path):
    page = Path(__file__).resolve().parent.parent / "corpus" / "003_2f6fc9060b9f45a6.txt"
    one = tmp_path / "one.txt"
    one.write_bytes(page.read_bytes())
    single = read_article(one)
    assert single.article == load_article(one)
    assert single.kept_chars == sum(1 for c in single.article.title + single.article.text if not c.isspace())
    assert 0.5 < single.kept_share <= 1.0
    several = tmp_path / "several.txt"  # six pages saved into one file: only the first article survives
    several.write_text(page.read_text(encoding="utf-8") * 6, encoding="utf-8")
    loaded = read_article(several)
    assert loaded.kept_chars == single.kept_chars and loaded.page_chars > 5 * single.page_chars
    assert loaded.kept_share < 0.2
