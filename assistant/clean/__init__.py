"""Turn the raw text of a scraped Chinese news page into article body + metadata.

A scraped page has three parts, and the rules here follow that shape rather than any
one site's wording:

* **head** – breadcrumbs ("您当前的位置 : X >> Y"), widgets ("投稿", "分享到"), the headline,
  a meta line ("2021-08-26 08:37 来源:X日报 编辑:Y"), bylines ("本报记者 张三"), and
  sometimes the headline repeated.  The headline and metadata are kept, the rest dropped.
* **body** – from the first prose line (long, with sentence punctuation; for an article of
  one short sentence, that sentence) on.  Short lines in the body are kept (section
  headings, "(记者 华静)"); what is dropped is furniture by its shape, wherever it is:
  links to other pages (lines mostly inside ``<a>`` on an HTML page), headlines with a
  timestamp ("万元背包遗落… 2019-09-09 19:28 中国雷人秀") and the short headings over such
  lists, counters ("已有123人参与"), button rows, buttons and app/QR-code promos, image
  captions (also those set apart from their image: centred, credited "（X摄）", classed
  ``pic``/``caption``), and credit lines ("原标题：…", "责任编辑：…"), which become metadata.
  Rows of a data table ("| 指标 | 单位 | 数值 |") are article content: kept whole, never
  taken for list entries (in the head, a grid of labelled cells — "| 发布机构： | X |" — is
  metadata and dropped).
* **tail** – starts at the first line that opens a disclaimer / recommendation / navigation
  block ("版权声明", "精彩推荐", a site footer, ...) or a run of list entries, unless more
  article prose follows.  Everything from there on is dropped, after scanning it for
  metadata (原文链接, 本文来源, 责任编辑).

On an HTML page, :func:`.html.prepare_tree` first fixes the shapes trafilatura misreads: an
article hidden by inline style until a script runs (WeChat) is unhidden and the short texts
around it become widgets, other hidden elements and plugin fallbacks ("下载安装Flash播放器")
are dropped, layout tables become blocks (each cell a line judged like any other) while data
tables stay tables, and ``<section>`` paragraphs become ``<p>``.

Modules: :mod:`.metadata` (dates, meta lines, bylines, credits), :mod:`.lines` (what one
line is), :mod:`.html` (what the page's HTML says about its lines, its headline, and the
tree fixes before extraction), :mod:`.page` (the structure above).

The output text has one paragraph per line, whitespace-trimmed, inner whitespace runs
collapsed to one space, characters otherwise untouched (citations quote exact text).
"""

from assistant.clean.html import HtmlHints
from assistant.clean.metadata import normalize_date, normalize_paragraph
from assistant.clean.page import CleanedPage, clean_page_text

__all__ = ["CleanedPage", "HtmlHints", "clean_page_text", "normalize_date", "normalize_paragraph"]
