"""The cleaner on pages shaped like those of many Chinese news sites (tests/data/pages/dev/).

Every dev fixture is read through the real ingest path and checked against its
``NAME.expected.json``; then the failures reported in issue 7 each get a test of their own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.clean import clean_page_text
from assistant.ingest import read_article
from benchmarks.cleaner import ATTACHMENT, body_tables, table_lines

DEV = Path(__file__).resolve().parent / "data" / "pages" / "dev"
PAGES = sorted(DEV.glob("*.html"))


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _expected(page: Path) -> dict:
    return json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))


def test_there_are_dev_pages_of_many_sites():
    assert len(PAGES) >= 16
    assert len({_expected(p)["site"] for p in PAGES}) >= 12


# Dev pages the cleaner still gets wrong, each for a reason no general rule covers yet.
KNOWN_MISSES = {
    "sspai_tto_one_year": "a site slogan quoted after the article ('实用、好用的 正版软件，少数派为你呈现') reads as prose",
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_dev_page(page):
    if page.stem in KNOWN_MISSES:
        pytest.xfail(KNOWN_MISSES[page.stem])
    expected = _expected(page)
    article = read_article(page).article
    text = _compact(article.text)
    assert article.title == expected["title"]
    assert [p[:20] for p in expected["body"] if _compact(p) not in text] == []  # every paragraph kept whole
    assert [f for f in expected["furniture"] if _compact(f) in text] == []
    lines = [_compact(line) for line in article.text.split("\n")]
    body = [_compact(p) for p in expected["body"]]
    # A data table in the article ("table": its rows) is kept, row by row, and is neither body nor furniture.
    assert [r for r in expected.get("table", []) if _compact("|" + "|".join(r) + "|") not in lines] == []
    table = table_lines(lines, body_tables(page, body))
    lines = [line for line in lines if line not in table and not ATTACHMENT.match(line)]
    assert [line for line in lines if not any(line in p or p in line for p in body)] == []  # nothing but article
    if expected["published"]:
        assert (article.date or "").startswith(expected["published"])
    else:
        assert article.date is None  # no date on the page: none made up


def _html(body: str, title: str = "某地发布新规", head: str = "") -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}_某某新闻网</title>{head}</head><body>"
            f"<div class='nav'><a href='/'>首页</a> <a href='/news'>新闻</a> <a href='/tech'>科技</a></div>{body}</body></html>")


def _read(tmp_path: Path, html: str, name: str = "page.html"):
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return read_article(path)


# ---------------------------------------------------------------------------------------
# The failures reported in issue 7
# ---------------------------------------------------------------------------------------


def test_a_one_sentence_article_is_kept(tmp_path):
    html = _html("<h1>地铁19号线开通</h1><p>2022-09-22 10:00 来源：杭州日报</p>"
                 "<div class='body'><p>杭州地铁19号线今日开通运营。</p></div>"
                 "<div class='rel'><h3>相关推荐</h3><ul><li><a href='/1'>杭州地铁三期工程全面提速</a></li>"
                 "<li><a href='/2'>亚运会前杭州将新开多条地铁线路</a></li><li><a href='/3'>地铁站内新增母婴室</a></li></ul></div>",
                 title="地铁19号线开通")
    loaded = _read(tmp_path, html)
    assert loaded.article.text == "杭州地铁19号线今日开通运营。"
    assert loaded.article.title == "地铁19号线开通"


def test_a_one_sentence_text_page_is_kept():
    page = clean_page_text("首页 > 新闻 > 本地\n地铁19号线开通\n2022-09-22 10:00 来源：杭州日报\n今日开通运营。\n分享到\n精彩推荐\n1 某地举行运动会")
    assert (page.title, page.text, page.source) == ("地铁19号线开通", "今日开通运营。", "杭州日报")


def test_a_title_with_quote_marks_is_not_cut(tmp_path):
    title = "男孩因不想上补习班 写“辞职信”给妈妈：我太累了"
    # The site wrote the headline's quotes unescaped into og:title, which ends the attribute at 写.
    head = '<meta property="og:title" content="男孩因不想上补习班 写"辞职信"给妈妈：我太累了">'
    body = "<p>" + "近日，一名小学生因为不想上补习班，给妈妈写了一封“辞职信”，引发网友热议。" * 2 + "</p>"
    assert _read(tmp_path, _html(body, title=title, head=head)).article.title == title
    assert _read(tmp_path, _html(f"<h1>{title}</h1>{body}", title=title), "h1.html").article.title == title


def test_a_headline_list_with_timestamps_is_dropped(tmp_path):
    body = "<div class='post'><p>" + "近日，一名游客在某商店遗落了一个背包，店员发现后主动联系失主并妥善保管。" * 2 + "</p>" \
           "<h3>小编最近文章</h3><ul>" \
           "<li><a href='/a'>万元背包遗落请店方暂存…</a> 2019-09-09 19:28 中国雷人秀</li>" \
           "<li><a href='/b'>外卖小哥冒雨送餐被顾客留下吃饭</a> 2019-09-09 17:05 中国雷人秀</li></ul>" \
           "<div>为您推荐了12篇文章</div><div><a href='#'>举报</a></div>" \
           "<p>" + "失主赶到后连声道谢，表示一定要给店员送去锦旗，感谢他们的诚信与热心。" * 2 + "</p></div>"
    text = _read(tmp_path, _html(body)).article.text
    for furniture in ("万元背包遗落请店方暂存", "2019-09-09 19:28", "中国雷人秀", "小编最近文章", "为您推荐了12篇文章", "举报"):
        assert furniture not in text
    assert text.startswith("近日，一名游客") and text.endswith("感谢他们的诚信与热心。")


def test_headline_lines_with_timestamps_are_dropped_from_text_pages_too():
    raw = "\n".join(["某市举办科技活动周", "本次活动周共举办各类科普活动200余场，吸引市民超过10万人次参与，反响热烈。",
                     "- 万元背包遗落请店方暂存… 2019-09-09 19:28 中国雷人秀",
                     "- 外卖小哥冒雨送餐被顾客留下吃饭 2019-09-09 17:05 中国雷人秀",
                     "已有123人参与"])
    assert clean_page_text(raw).text == "本次活动周共举办各类科普活动200余场，吸引市民超过10万人次参与，反响热烈。"


def test_original_title_and_editor_lines_are_metadata_not_text(tmp_path):
    body = ("<p>原标题：男孩写“辞职信”不想上补习班</p><p>" + "近日，一名小学生因为不想上补习班，给妈妈写了一封信。" * 2 + "</p>"
            "<p>[责任编辑：李杰 PN070]</p><p>（原标题：妈妈看后心软了）</p><p>责任编辑：王晓易_NE0011</p>")
    loaded = _read(tmp_path, _html(body)).article
    assert loaded.text == "近日，一名小学生因为不想上补习班，给妈妈写了一封信。" * 2
    assert (loaded.original_title, loaded.editor) == ("男孩写“辞职信”不想上补习班", "李杰")


def test_a_footer_word_followed_by_body_text_does_not_cut_the_article():
    body = [
        "人民网北京5月6日电 记者从工业和信息化部获悉，截至3月末，我国5G基站总数达264.4万个。",
        "延伸阅读",
        "5G应用已融入97个国民经济大类中的60个，应用案例数超过5万个，形成了一批可复制推广的典型案例。",
        "业内专家指出，5G网络建设正由规模扩张转向深度覆盖，县城和乡镇的网络质量将成为下一阶段的重点。",
    ]
    raw = "\n".join(["全国5G基站超过260万个", *body, "人民网版权所有，未经书面授权禁止使用", "Copyright © 1997-2023 by www.people.com.cn. all rights reserved"])
    assert clean_page_text(raw).text == "\n".join(body)


def test_a_numbered_list_inside_the_body_is_kept():
    items = ["1.违反宪法和法律法规的；", "2.危害国家统一、主权和领土完整的；", "3.超标超前的学科类培训内容。"]
    raw = "\n".join(["培训材料管理办法发布", "2021-09-08 15:30 来源：新京报", "办法明确，校外培训材料不得出现以下内容：", *items,
                     "办法自发布之日起施行，各地应在年底前完成对现有校外培训材料的全面排查。"])
    assert clean_page_text(raw).text.split("\n")[1:4] == items


def test_a_sentence_naming_its_reporter_is_not_a_meta_line():
    raw = "\n".join(["教育部发布新规", "2021-09-08 15:30 来源：新京报", "新京报讯（记者 冯琪）9月8日，教育部办公厅印发管理办法，明确以下内容：",
                     "1.违反宪法和法律法规的；", "办法自发布之日起施行，各地应在年底前完成对现有校外培训材料的全面排查。"])
    assert clean_page_text(raw).text.split("\n")[0].startswith("新京报讯（记者 冯琪）")


def test_image_captions_are_dropped(tmp_path):
    paragraphs = ["8月17日，国家航天局发布了新一批影像，祝融号火星车已在火星表面行驶超过1900米。",
                  "据介绍，祝融号火星车目前状态良好，正在向着陆点南方的古海陆交界地带行进。"]
    body = (f"<div class='content'><p>{paragraphs[0]}</p><p><img src='a.jpg'></p><p>祝融号拍摄的沙丘影像</p>"
            f"<p><img src='b.jpg'><br>着陆点全景（国家航天局供图）</p><p>{paragraphs[1]}</p></div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(paragraphs)


# ---------------------------------------------------------------------------------------
# Page shapes trafilatura misreads (hidden content, layout tables, captions, plugins)
# ---------------------------------------------------------------------------------------

_PARAS = ["近日，某市发布新一轮支持科技创新的政策措施，对首次认定的高新技术企业给予一次性奖励。",
          "政策明确，企业研发投入较上年增长的部分，按一定比例给予补助，单个企业最高可获得200万元。",
          "据介绍，新政策自发布之日起施行，有效期三年，相关申报指南将于近期在市科技局网站公布。"]


def test_an_article_hidden_until_a_script_runs_is_read_without_the_reader_widgets(tmp_path):
    sections = "".join(f"<section><span>{p}</span></section>" for p in _PARAS)
    body = (f"<h1>某市出台科技创新新政</h1><div id='meta'><a href='javascript:;'>某市发布</a> <em>2024-03-01 19:00</em> <em>广东</em></div>"
            f"<div id='content' style='visibility: hidden; opacity: 0;'>{sections}</div>"
            "<div class='bar'><button><span>在看</span></button><a href='javascript:;'>写留言</a><span>留言</span></div>"
            "<div id='bottom'><span>微信扫一扫可打开此内容，使用完整服务</span></div><div><span>向上滑动看下一个</span></div>"
            "<div id='toast' style='display: none;'>预览时标签不可点</div>"
            "<span aria-hidden='true' style='display:none'>，轻点两下取消赞</span><span aria-hidden='true' style='display:none'>在看</span>")
    article = _read(tmp_path, _html(body, title="某市出台科技创新新政")).article
    assert article.text == "\n".join(_PARAS)


def test_a_hidden_block_that_is_not_the_page_content_stays_out(tmp_path):
    body = "".join(f"<p>{p}</p>" for p in _PARAS) + "<div style='display:none'>请升级浏览器后查看</div>"
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_layout_table_cells_are_judged_as_lines_and_a_data_table_is_kept(tmp_path):
    rows = [["项目", "金额（万元）", "增长（%）"], ["高企奖励", "1200", "15.2"], ["研发补助", "3400", "8.7"]]
    grid = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    article = "".join(f"<p>{p}</p>" for p in _PARAS) + f"<table border='1'>{grid}</table>"
    body = ("<table width='1000'><tr><td>当前位置：<a href='/'>首页</a>&gt;<a href='/tzgg/'>通知公告</a></td></tr>"
            f"<tr><td><table><tr><td>某市出台科技创新新政</td></tr><tr><td>{article}</td></tr></table></td></tr>"
            "<tr><td><table><tr><td>相关链接</td></tr><tr><td><a href='/1'>某市科技局2023年工作总结</a></td></tr>"
            "<tr><td><a href='/2'>关于开展高企认定工作的通知</a></td></tr></table></td></tr></table>")
    text = _read(tmp_path, _html(body, title="某市出台科技创新新政")).article.text
    assert text == "\n".join([*_PARAS, *("| " + " | ".join(r) + " |" for r in rows)])


def test_a_metadata_grid_above_a_government_article_is_dropped(tmp_path):
    grid = ("<table><tr><td>索引号：</td><td>11510000/2023-00123</td><td>分类：</td><td>通知公告</td></tr>"
            "<tr><td>发布机构：</td><td>某市科技局</td><td>发布日期：</td><td>2023-06-08</td></tr></table>")
    body = f"<h1>某市出台科技创新新政</h1>{grid}" + "".join(f"<p>{p}</p>" for p in _PARAS)
    assert _read(tmp_path, _html(body, title="某市出台科技创新新政")).article.text == "\n".join(_PARAS)


def test_captions_apart_from_their_image_are_dropped(tmp_path):
    body = (f"<div class='content'><p>{_PARAS[0]}</p><p style='text-align:center'><img src='a.jpg'></p>"
            "<p style='text-align:center'>3月1日，企业技术人员在实验室调试设备。新华社记者 王五 摄</p>"
            f"<p>{_PARAS[1]}</p><div class='pic'><img src='b.jpg'></div><p><br></p><p>市科技局供图</p>"
            f"<span class='img-desc'>政策发布会现场（资料图）</span><p>{_PARAS[2]}</p></div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_plugin_fallback_text_and_app_promos_are_dropped(tmp_path):
    body = ("".join(f"<p>{p}</p>" for p in _PARAS[:2])
            + "<object data='player.swf'><embed src='player.swf'><p>下载安装Flash播放器</p></object>"
            + f"<p>{_PARAS[2]}</p><div class='app-download'><img src='qrcode.png'><span>某某新闻APP 让你先看到明天</span></div>"
            + "<p><a href='https://apps.apple.com/cn/app/id123'>打开某某新闻客户端</a></p>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_a_player_box_filled_by_a_script_leaves_no_placeholder(tmp_path):
    # No <object>: the box is empty until the site's player script fills it.
    body = ("<div class='video_area' id='myFlash'><div class='video_tips'>视频播放位置</div><p>下载安装Flash播放器</p></div>"
            + "".join(f"<p>{p}</p>" for p in _PARAS))
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_a_box_named_video_that_holds_the_article_is_kept(tmp_path):
    body = "<div class='video-news'>" + "".join(f"<p>{p}</p>" for p in _PARAS) + "</div>"
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


@pytest.mark.parametrize("mark", ["END", "- END -", "—THE END—", "（完）"])
def test_an_end_mark_ends_the_article_and_the_credits_after_it_are_metadata(tmp_path, mark):
    body = ("".join(f"<p>{p}</p>" for p in _PARAS)
            + f"<p style='text-align:center'>{mark}</p><p>来源：某某日报</p><p>编辑：王琪</p>")
    article = _read(tmp_path, _html(body)).article
    assert article.text == "\n".join(_PARAS)
    assert article.source == "某某日报"


def test_a_sentence_ending_in_end_is_not_an_end_mark():
    raw = "\n".join([*_PARAS[:2], "The weekend is the END of a busy week for the team, he said.", _PARAS[2]])
    assert clean_page_text(raw).text.split("\n")[-1] == _PARAS[2]


def test_a_copyright_notice_and_byline_above_the_body_are_not_article(tmp_path):
    body = ("<h1>某市出台科技创新新政</h1><div class='content'>"
            "<p>某某报业及其客户端所刊载内容的知识产权均属某某报社所有。未经书面授权，任何人不得以任何方式使用。</p>"
            "<p>某某经济报道记者 林晓 广州报道</p>"
            + "".join(f"<p>{p}</p><p>政策要点</p>" for p in _PARAS[:2]) + f"<p>{_PARAS[2]}</p></div>")
    article = _read(tmp_path, _html(body, title="某市出台科技创新新政")).article
    assert article.text == "\n".join([_PARAS[0], "政策要点", _PARAS[1], "政策要点", _PARAS[2]])
    assert article.author == "林晓"


def test_a_footer_word_above_a_subheading_and_more_paragraphs_does_not_end_the_article():
    raw = "\n".join([_PARAS[0], "【版权声明】本文系本网原创稿件，未经授权不得转载，转载请联系本网版权中心。",
                     _PARAS[1], "龙头带动 集群成势", _PARAS[2]])
    assert clean_page_text(raw, title="某市出台科技创新新政").text == "\n".join([*_PARAS[:2], "龙头带动 集群成势", _PARAS[2]])


def test_subheadings_among_the_paragraphs_are_kept(tmp_path):
    long = [p + "业内人士认为，这将进一步激发企业创新活力，“政策含金量很高，企业获得感很强”。" for p in _PARAS]
    body = (f"<div class='article'><p>{long[0]}</p><h3>设计环节：从“跟跑”到细分领域领先</h3><p>{long[1]}</p>"
            f"<h3>制造环节：产线落地带动配套集聚</h3><p>{long[2]}</p></div>")
    lines = _read(tmp_path, _html(body)).article.text.split("\n")
    assert lines == [long[0], "设计环节：从“跟跑”到细分领域领先", long[1], "制造环节：产线落地带动配套集聚", long[2]]


def test_a_sentence_caption_under_its_image_is_dropped_and_a_numbered_heading_after_one_is_kept(tmp_path):
    body = ("<div class='content'>" + f"<p>{_PARAS[0]}</p>"
            + "<div align='center'><img src='a.jpg'><br><font>图为工人在生产线上分拣马铃薯。记者 王锋 摄</font></div>"
            + f"<p>{_PARAS[1]}</p><div><img src='b.jpg'></div><p><strong>二、费用分摊</strong></p><p>{_PARAS[2]}</p></div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join([_PARAS[0], _PARAS[1], "二、费用分摊", _PARAS[2]])


def test_an_audio_box_and_a_credits_line_are_not_article(tmp_path):
    body = ("<div class='audio-box'><audio src='a.mp3'>您的浏览器不支持 audio 标签。</audio><p>点击收听音频报道</p></div>"
            + "".join(f"<p>{p}</p>" for p in _PARAS) + "<p>（作者：林晓 编辑：陈思）</p>")
    article = _read(tmp_path, _html(body)).article
    assert article.text == "\n".join(_PARAS)
    assert (article.author, article.editor) == ("林晓", "陈思")


def test_the_bylines_date_wins_over_the_oldest_date_of_a_related_list(tmp_path):
    related = "".join(f"<div><a href='/n{i}'>相关新闻标题第{i}条</a><span>2019-07-0{i} 09:15</span></div>" for i in (6, 7, 8))
    body = (f"<h1>某市出台科技创新新政</h1><div class='about'><p>2019-07-09 15:20 来源：某某新闻</p></div>"
            f"<div class='txt'>{'<br/><br/>'.join(_PARAS)}</div><div class='related'><h2>相关新闻</h2>{related}</div>")
    assert _read(tmp_path, _html(body, title="某市出台科技创新新政")).article.date == "2019-07-09"


@pytest.mark.parametrize("line", ["栏目主编：王志彦 文字编辑：黄晓雯", "题图来源：受访者供图 图片编辑：雍凯",
                                  "编辑邮箱：kechuang@example.com", "《工人日报》（2024年06月18日 05版）",
                                  "□ 本报通讯员 孙立伟", "记者 陈嘉欣", "文/某某青年报记者 刘思远",
                                  "版权和免责声明", "本日热门 某某日报 打开App 即时掌握产业脉动",
                                  "请遵守本网讨论区规范，留言者发言内容不代表本网立场。",
                                  "编审：刘宁", "（作者单位：某某科技发展战略研究院）", "《某某参考报》（2024年05月21日 A05版）",
                                  "打开某某日报客户端，阅读更多精彩", "请遵守网路礼仪，留言内容由发言人自负责任。",
                                  "暂无评论，说点什么吧", "发于2025.6.2总第1190期《某某周刊》杂志",
                                  "如对本稿件有异议或投诉，请联系tougao@example.com",
                                  "刊于《某某谈》2024年第12期", "本文刊于《某某论坛》杂志2024年第9期", "（编辑 王凯 校对 李娜）",
                                  "图片来源：企业官方", "#欢迎关注某某官方微信公众号：某某（微信号：abc），更多精彩内容第一时间为您奉上。",
                                  "追踪某某新闻网Google新闻，第一手掌握最新消息",
                                  "本文来自【某某日报】，仅代表作者观点。全国党媒信息公共平台提供信息发布传播服务。",
                                  "【字体：大 中 小】", "文字：乌日娜\u3000图片：受访团队", "初审：高娃\u3000复审：刘志刚\u3000终审：孟和",
                                  "郑重声明：用户在社区发表的所有资料、言论等仅代表个人观点，与本网站立场无关，不对您构成任何投资建议。"])
def test_credit_edition_byline_and_widget_lines_after_the_body_are_not_article(line):
    raw = "\n".join([*_PARAS, line])
    assert clean_page_text(raw, title="某市出台科技创新新政").text == "\n".join(_PARAS)


def test_a_heading_a_table_of_contents_links_to_is_kept(tmp_path):
    headings = ["一、背景", "二、做法"]
    toc = "<div class='toc'><ul>" + "".join(f"<li><a href='#_{i}'>{h}</a></li>" for i, h in enumerate(headings)) + "</ul></div>"
    paras = [*_PARAS, "业内人士认为，这将进一步激发企业创新活力，政策含金量很高，企业获得感很强，申报积极性明显提高。"]
    body = toc + "<div class='article'>" + "".join(
        f"<h2><a name='t{i}'></a><a id='_{i}'></a>{h}</h2><p>{paras[2 * i]}</p><p>{paras[2 * i + 1]}</p>"
        for i, h in enumerate(headings)) + "</div>"
    lines = _read(tmp_path, _html(body)).article.text.split("\n")
    assert lines == ["一、背景", *paras[:2], "二、做法", *paras[2:]]


def test_a_caption_inside_a_centre_block_with_its_image_is_dropped(tmp_path):
    body = ("<div class='txt'>" + f"{_PARAS[0]}<br><br>"
            + "<center><img src='a.jpg'><br><font>放流前，工作人员为幼鱼植入声学标记。（保护区供图）</font></center><br>"
            + f"{_PARAS[1]}<br><br>{_PARAS[2]}</div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_a_subheading_shaped_like_a_credit_is_kept():
    raw = "\n".join([_PARAS[0], "基因编辑：一把双刃剑", *_PARAS[1:]])
    assert clean_page_text(raw, title="某市出台科技创新新政").text == raw


def test_an_e_paper_headline_above_the_body_is_found_when_the_title_tag_names_only_the_site(tmp_path):
    body = ("<table><tr><td><a href='a.htm'>某市出台科技创新新政 最高奖励千万</a><br><a href='b.htm'>另一条新闻标题</a></td></tr>"
            "<tr><td align='center'><strong>某市出台科技创新新政 最高奖励千万</strong></td></tr>"
            "<tr><td>2024年5月18日</td></tr><tr><td>" + "".join(f"<p>{p}</p>" for p in _PARAS) + "</td></tr></table>")
    html = f"<html><head><meta charset='utf-8'><title>某某日报电子版</title></head><body>{body}</body></html>"
    article = _read(tmp_path, html).article
    assert article.title == "某市出台科技创新新政 最高奖励千万"
    assert article.text == "\n".join(_PARAS)


def test_a_page_that_shows_no_date_gets_none_made_up_from_a_copyright_year(tmp_path):
    body = "".join(f"<p>{p}</p>" for p in _PARAS) + "<div class='footer'>Copyright ©2024 某某网 版权所有</div>"
    assert _read(tmp_path, _html(body)).article.date is None


def test_paragraphs_folded_under_read_more_are_article(tmp_path):
    body = ("<div class='article-body'>" + "".join(f"<p>{p}</p>" for p in _PARAS[:2])
            + f"<div class='unfold-field' style='display:none'><p>{_PARAS[2]}</p></div></div>"
            + "<div class='unfold'>展开全文</div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_a_list_of_sentences_after_a_picture_and_a_lead_in_is_kept(tmp_path):
    items = ["对新认定的创新联合体，按牵头企业上年度研发投入的10%给予最高200万元组建补助；",
             "对联合体承担的关键核心技术攻关任务，按项目实际研发投入的30%给予最高500万元支持。"]
    body = ("<div class='news_txt'>" + "".join(f"<p>{p}</p>" for p in _PARAS[:2]) + "<p><img src='a.jpg'></p>"
            + "<p>在资金支持方面，《措施》提出：</p><ol>" + "".join(f"<li>{i}</li>" for i in items) + f"</ol><p>{_PARAS[2]}</p></div>")
    lines = _read(tmp_path, _html(body)).article.text.split("\n")
    assert lines == [*_PARAS[:2], "在资金支持方面，《措施》提出：", *items, _PARAS[2]]


@pytest.mark.parametrize("title_tag, headline_html", [
    ("从实验室到生产线：一项技术的“十年转化路”----某某科学院", "<h1>从实验室到生产线：一项技术的“十年转化路”</h1>"),
    ("某某日报数字报-县域科技成果转化如何打通“最后一公里”", "<p class='tit'>县域科技成果转化如何打通“最后一公里”</p>"),
    ("某某每日电讯", "<table><tr><td id='ArticleTitle'>我国新一代海洋卫星投入业务运行</td></tr></table>"),
])
def test_the_headline_is_found_whatever_the_title_tag_adds_or_lacks(tmp_path, title_tag, headline_html):
    body = headline_html + "<div class='content'>" + "".join(f"<p>{p}</p>" for p in _PARAS) + "</div>"
    html = f"<html><head><meta charset='utf-8'><title>{title_tag}</title></head><body>{body}</body></html>"
    expected = re.sub(r"<[^>]+>", "", headline_html)
    assert _read(tmp_path, html).article.title == expected


def test_gallery_and_triangle_captions_are_dropped(tmp_path):
    gallery = "<ul class='gallery'>" + "".join(
        f"<li class='pic-item'><span class='num'>{i}/2</span><img src='{i}.jpg'><p class='pic-txt'>{c}</p></li>"
        for i, c in enumerate(["植保无人机在棉田上空喷洒叶面肥。", "农技人员在田间查看棉苗长势。"], 1)) + "</ul>"
    body = (f"<div class='content'><p>{_PARAS[0]}</p>{gallery}<p>{_PARAS[1]}</p>"
            f"<p><img src='3.jpg'></p><p>▲自动化实验平台的机械臂正在取放样品。图片来源：受访者</p><p>{_PARAS[2]}</p></div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


def test_a_pull_quote_and_the_headline_repeated_under_the_article_are_dropped():
    quoted = _PARAS[1].rstrip("。") + "，「常常一个下午下来，连水都没时间喝」。"
    raw = "\n".join([_PARAS[0], "「常常一个下午下来，连水都没时间喝。」", quoted, _PARAS[2], "某市出台科技创新新政"])
    assert clean_page_text(raw, title="某市出台科技创新新政").text == "\n".join([_PARAS[0], quoted, _PARAS[2]])


def test_a_headline_that_asks_a_question_and_a_taiwan_byline_are_not_article():
    raw = "\n".join(["学研技转卡关？国科会拟松绑教授新创持股上限 学界忧利益冲突", "记者林又青／台北报导", *_PARAS])
    page = clean_page_text(raw, title="学研技转卡关？国科会拟松绑教授新创持股上限 学界忧利益冲突")
    assert page.text == "\n".join(_PARAS)
    assert page.author == "林又青"


def test_an_overlay_before_a_caption_and_a_numbered_heading_after_a_picture(tmp_path):
    body = ("<div class='post_body'>" + f"<p>{_PARAS[0]}</p>"
            + "<p class='f_center'><img src='a.jpg'><span class='watermark'>打开某某新闻 查看精彩图片</span><br/>"
              "位于嘉兴的产业合作园。图片来源：受访者供图</p>"
            + f"<p>{_PARAS[1]}</p><section style='text-align:center'><img src='b.jpg'></section>"
            + "<section style='text-align:center'><p><strong>二、主要内容</strong></p></section>"
            + f"<p>{_PARAS[2]}</p></div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join([*_PARAS[:2], "二、主要内容", _PARAS[2]])


# ---------------------------------------------------------------------------------------
# Article text that looks like furniture and must stay (found in review)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "对公示内容如有异议，请于公示期内联系区住房和城乡建设局，联系电话：12345678。",
    "节假日出行时请遵守交通规定，服从现场工作人员指挥，注意安全。",
    "下载安装“国家反诈中心”APP",
    "打开视野看世界",
    "关注这一话题的微博用户超过百万，不少网友留言表示支持。",
    "▲坚持稳中求进工作总基调，推动经济实现质的有效提升和量的合理增长",
    "原题目难度偏高，不少考生反映时间不够用。",
    "争做新时代记者 勇担使命",
])
def test_article_lines_that_resemble_furniture_are_kept(line):
    raw = "\n".join([*_PARAS, line])
    assert clean_page_text(raw, title="某市出台科技创新新政").text.split("\n")[-1] == line


def test_a_paragraph_about_acting_without_permission_opens_the_article():
    first = "近日，一名男子未经允许擅自在机场净空保护区放飞无人机，被警方依法处以行政拘留。"
    assert clean_page_text("\n".join([first, *_PARAS]), title="某市出台科技创新新政").text.split("\n")[0] == first


def test_a_subheading_whose_words_the_next_paragraph_repeats_is_kept():
    raw = "\n".join([_PARAS[0], "加快发展新质生产力", "要加快发展新质生产力，" + _PARAS[1], _PARAS[2]])
    assert clean_page_text(raw, title="某市出台科技创新新政").text == raw


def test_a_byline_above_the_body_is_not_taken_for_the_headline(tmp_path):
    body = ("<div class='title'>某市出台科技创新新政</div><p><strong>本报记者 张三 李四</strong></p>"
            + "".join(f"<p>{p}</p>" for p in _PARAS))
    html = f"<html><head><meta charset='utf-8'><title>某市出台科技创新新政</title></head><body>{body}</body></html>"
    article = _read(tmp_path, html).article
    assert article.title == "某市出台科技创新新政"
    assert article.author == "张三、李四"


def test_a_subheading_in_the_block_that_holds_a_picture_is_kept(tmp_path):
    body = (f"<div class='content'><p>{_PARAS[0]}</p><img src='a.jpg'><p><strong>共绘发展新蓝图</strong></p>"
            f"<p>{_PARAS[1]}</p><p>{_PARAS[2]}</p></div>")
    assert "共绘发展新蓝图" in _read(tmp_path, _html(body)).article.text.split("\n")


def test_boxes_named_like_players_but_holding_content_are_kept(tmp_path):
    body = ("<div class='newsflash-item'><p>某科技公司完成亿元B轮融资，本轮由多家机构联合投资。</p></div>"
            "<div class='player-info'><p>身高 1.85米</p></div>")
    article = _read(tmp_path, _html(body)).article
    assert "某科技公司完成亿元B轮融资" in article.text


def test_a_hidden_dialog_does_not_become_article_text(tmp_path):
    dialog = "<div class='leave-dialog' style='display:none'><p>温馨提示：您即将离开本站前往第三方网站，请注意保护个人信息安全。</p></div>"
    body = "<div class='content'>" + "".join(f"<p>{p}</p>" for p in _PARAS) + dialog + "</div>"
    assert "温馨提示" not in _read(tmp_path, _html(body)).article.text


def test_a_comment_between_a_picture_and_its_caption_is_read(tmp_path):
    body = ("<div class='content'>" + f"<p>{_PARAS[0]}</p><p><img src='a.jpg'></p><!-- caption --><p>图为会场 张三 摄</p>"
            + "".join(f"<p>{p}</p>" for p in _PARAS[1:]) + "</div>")
    assert _read(tmp_path, _html(body)).article.text == "\n".join(_PARAS)


@pytest.mark.parametrize("line, editor", [("责任编辑：王晓易_NE0011", "王晓易"), ("栏目主编：王志彦 文字编辑：黄晓雯", "黄晓雯"),
                                          ("（作者：林晓 编辑：陈思）", "陈思")])
def test_an_editor_credit_gives_the_editor_without_a_desk_code(line, editor):
    page = clean_page_text("\n".join([*_PARAS, line]), title="某市出台科技创新新政")
    assert page.text == "\n".join(_PARAS)
    assert page.editor == editor
