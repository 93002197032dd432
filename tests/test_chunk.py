"""Sentence splitting and chunking, on hand-made cases and on the real seed corpus."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.chunk import chunk_article, chunk_id, split_paragraphs, split_sentences
from assistant.tokens import count_tokens
from assistant.types import Article, Chunk

REPO = Path(__file__).resolve().parent.parent
CMRC_PASSAGES = REPO.parent / "shared" / "bench" / "cmrc2018_dev" / "passages.jsonl"
MAX, OVERLAP = 160, 40
SECTION_HEADINGS = ["政府引导,组建创新联合体", "集聚资源,补短板强链条", "企业出题,高校院所攻关"]


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def seed_article(path: Path) -> Article:
    """A raw seed page as an Article: its longer lines (headings included) as paragraphs."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    paragraphs = [line for line in lines if len(line) >= 10]
    return Article(doc_id=path.stem, title=paragraphs[0], text="\n".join(paragraphs))


@pytest.fixture(scope="module")
def seed_chunks() -> list[tuple[Article, list[Chunk]]]:
    articles = [seed_article(path) for path in sorted((REPO / "corpus").glob("*.txt"))]
    assert len(articles) == 5
    return [(article, chunk_article(article, MAX, OVERLAP)) for article in articles]


# --- paragraphs and sentences -------------------------------------------------------------


def test_paragraphs_are_stripped_non_empty_lines():
    text = "第一段。\n\n  第二段 \n\t\n第三段"
    assert [text[s:e] for s, e in split_paragraphs(text)] == ["第一段。", "第二段", "第三段"]
    assert split_paragraphs("") == [] and split_paragraphs(" \n \n") == []


def test_chinese_terminators():
    assert sentences("今天下雨。你带伞了吗？带了！那就好；走吧") == [
        "今天下雨。", "你带伞了吗？", "带了！", "那就好；", "走吧"]


def test_ascii_terminators_inside_chinese_text():
    assert sentences("目前,这方面工作有何成效?下一步怎么做?太好了!继续努力;加油。") == [
        "目前,这方面工作有何成效?", "下一步怎么做?", "太好了!", "继续努力;", "加油。"]


def test_decimals_and_percentages_do_not_end_a_sentence():
    text = "技术合同认定登记额达17.73亿元、同比增长33.21%,强度达到0.73%。下一句。"
    assert sentences(text) == ["技术合同认定登记额达17.73亿元、同比增长33.21%,强度达到0.73%。", "下一句。"]


def test_urls_abbreviations_and_list_markers_do_not_end_a_sentence():
    assert sentences("原文链接:http://zrzy.nmg.gov.cn/zwgk/t20220812_2102365.html 请查看。") == [
        "原文链接:http://zrzy.nmg.gov.cn/zwgk/t20220812_2102365.html 请查看。"]
    assert sentences("Henry A. Walsh来自St. Paul。Yahoo!奇摩汽车上线。") == [
        "Henry A. Walsh来自St. Paul。", "Yahoo!奇摩汽车上线。"]
    assert sentences("从猛将传开始。2.战国无双的主角有专属声优。") == [
        "从猛将传开始。", "2.战国无双的主角有专属声优。"]


def test_ascii_period_ends_english_and_chinese_sentences():
    assert sentences("It works. Really? Yes.") == ["It works.", "Really?", "Yes."]
    assert sentences("这是第一句.这是第二句.") == ["这是第一句.", "这是第二句."]


def test_closing_quote_stays_with_its_sentence():
    text = ("“创新联合体整合各单位研发、生产制造的运营机制。” 中国兵器首席科学家介绍,"
            "下一步,将打造原创技术策源地。")
    assert sentences(text) == [
        "“创新联合体整合各单位研发、生产制造的运营机制。”",
        "中国兵器首席科学家介绍,下一步,将打造原创技术策源地。"]
    assert sentences("他说:“好!”」然后走了。") == ["他说:“好!”」", "然后走了。"]


def test_semicolons_inside_quotes_and_terminators_inside_titles_do_not_split():
    text = "按照“需求导向、系统谋划;企业主体、政府统筹”的原则推进。《你好!世界》是一本书。"
    assert sentences(text) == ["按照“需求导向、系统谋划;企业主体、政府统筹”的原则推进。", "《你好!世界》是一本书。"]


def test_quote_example_from_the_corpus_is_two_sentences():
    line = next(line for line in (REPO / "corpus" / "001_2c62cb16d225f48b.txt").read_text(
        encoding="utf-8").splitlines() if line.startswith("“创新联合体整合"))
    first, second = sentences(line)
    assert first.startswith("“创新联合体") and first.endswith("的运营机制。”")
    assert second.startswith("中国兵器首席科学家") and second.endswith("打造原创技术策源地。")
    # The same passage with omissions marked by a lone "…" is still two sentences.
    elided = "“创新联合体整合各单位研发…的运营机制。” 中国兵器首席科学家…介绍,下一步,…策源地。"
    assert sentences(elided) == ["“创新联合体整合各单位研发…的运营机制。”", "中国兵器首席科学家…介绍,下一步,…策源地。"]


def test_ellipsis():
    assert sentences("走到生命尽头……唐逐步走向盛世……历史由后人评说…") == [
        "走到生命尽头……", "唐逐步走向盛世……", "历史由后人评说…"]
    assert sentences("“我不知道…”他说。好戏才正要登场...耕作最初见到她。") == [
        "“我不知道…”", "他说。", "好戏才正要登场...", "耕作最初见到她。"]
    # An ellipsis followed by a comma or 等 is a trailing-off list, not a sentence end.
    assert sentences("小本杂志……等相继停刊,鲁夫反目相向…,为了拯救萨卡。") == [
        "小本杂志……等相继停刊,鲁夫反目相向…,为了拯救萨卡。"]


def test_paragraph_end_ends_a_sentence_and_offsets_are_absolute():
    text = "标题\n  第一段没有句号\n第二段。第二句 "
    spans = split_sentences(text, 3)
    assert [text[s:e] for s, e in spans] == ["第一段没有句号", "第二段。", "第二句"]
    assert spans[0][0] == text.index("第一段")
    assert split_sentences(text, 0, 2) == [(0, 2)]


# --- chunking: small articles -------------------------------------------------------------


def article(text: str, doc_id: str = "doc") -> Article:
    return Article(doc_id=doc_id, title="标题", text=text)


def test_empty_and_tiny_articles():
    assert chunk_article(article("")) == []
    assert chunk_article(article(" \n\n ")) == []
    [only] = chunk_article(article("  只有一句话。\n"))
    assert (only.text, only.start, only.end, only.ordinal, only.title) == ("只有一句话。", 2, 8, 0, "标题")
    assert only.chunk_id == chunk_id("doc", "只有一句话。")


def test_chunk_id_is_a_stable_16_hex_content_hash():
    assert chunk_id("d", "文本") == chunk_id("d", "文本")
    assert len(chunk_id("d", "文本")) == 16 and int(chunk_id("d", "文本"), 16) >= 0
    assert chunk_id("d", "文本") != chunk_id("e", "文本") != chunk_id("d", "文本。")
    assert chunk_id("ab", "c") != chunk_id("a", "bc")  # the separator keeps fields apart


def test_paragraphs_that_fit_are_never_split():
    paragraph = "科技创新是发展的第一动力。" * 5  # 71 tokens: two fit a chunk, three do not
    text = "\n".join(f"{i}{paragraph}" for i in range(6))
    chunks = chunk_article(article(text), max_tokens=160, overlap_tokens=40)
    paragraph_starts = {s for s, _ in split_paragraphs(text)}
    paragraph_ends = {e for _, e in split_paragraphs(text)}
    assert len(chunks) == 3 and all(c.text.count("\n") == 1 for c in chunks)
    assert all(c.start in paragraph_starts and c.end in paragraph_ends for c in chunks)
    assert all(a.end < b.start for a, b in zip(chunks, chunks[1:]))  # no overlap at paragraph breaks


def test_heading_paragraph_moves_to_the_chunk_it_introduces():
    body = "企业是创新的主体,也理应成为主力军。" * 5  # ~100 tokens
    text = f"{body}\n政府引导,组建创新联合体\n{body}"
    chunks = chunk_article(article(text), max_tokens=160, overlap_tokens=40)
    assert [c.text for c in chunks] == [body, f"政府引导,组建创新联合体\n{body}"]


@pytest.mark.parametrize(("body", "heading_chunk"), [
    ("企业是创新的主体,也理应成为主力军。" * 5, 1),  # 100 tokens: break before the heading
    ("企业是创新的主体,也理应成为主力军。" * 3 + "企业是创新的主体。", 0),  # 70: fill past it
], ids=["half-full", "small"])
def test_heading_before_a_long_sentence_is_not_left_behind(body, heading_chunk):
    long_sentence = ",".join(f"第{i}家企业牵头组建创新联合体" for i in range(20)) + "。"
    text = f"{body}\n政府引导,组建创新联合体\n{long_sentence}"
    chunks = chunk_article(article(text), max_tokens=160, overlap_tokens=40)
    [holder] = [c for c in chunks if "政府引导" in c.text]
    assert holder.ordinal == heading_chunk
    assert "政府引导,组建创新联合体\n第0家" in holder.text


def test_overlap_repeats_whole_sentences_within_budget():
    text = "".join(f"第{i}项工作已经按计划完成并通过验收。" for i in range(30))
    spans = split_sentences(text)
    starts = {s for s, _ in spans}
    chunks = chunk_article(article(text), max_tokens=100, overlap_tokens=40)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start in starts and prev.start < nxt.start < prev.end < nxt.end
        overlap = text[nxt.start:prev.end]
        assert 0 < count_tokens(overlap) <= 40
        # Maximal: one more sentence from the previous chunk would exceed the overlap budget.
        earlier = max(s for s in starts if s < nxt.start)
        if earlier > prev.start:
            assert count_tokens(text[earlier:prev.end]) > 40


def test_long_comma_only_sentence_is_split_at_commas():
    text = ",".join(f"第{i}家企业牵头组建创新联合体" for i in range(60)) + "。"
    assert len(split_sentences(text)) == 1 and count_tokens(text) > 600
    chunks = chunk_article(article(text), max_tokens=100, overlap_tokens=20)
    assert len(chunks) >= 6
    assert all(count_tokens(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith((",", "。")) for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    assert all(nxt.start <= prev.end for prev, nxt in zip(chunks, chunks[1:]))  # no gaps


LONG_SENTENCE = ",".join(f"第{i}家企业牵头组建创新联合体" for i in range(20)) + "。"  # 340 tokens


def test_full_enough_chunk_ends_before_a_long_sentence_not_inside_it():
    opening = "企业是创新的主体,也理应成为主力军。" * 5  # 100 tokens: more than half the budget
    chunks = chunk_article(article(opening + LONG_SENTENCE), max_tokens=160, overlap_tokens=40)
    assert chunks[0].text == opening


def test_paragraph_break_is_preferred_once_the_chunk_is_half_full():
    opening = "企业是创新的主体,也理应成为主力军。" * 5  # 100 tokens
    long_paragraph = "".join(f"第{i}项工作已经按计划完成并通过验收。" for i in range(20))
    chunks = chunk_article(article(f"{opening}\n{long_paragraph}"), max_tokens=160, overlap_tokens=40)
    assert chunks[0].text == opening and chunks[1].start == len(opening) + 1


def test_small_chunk_is_filled_from_a_long_next_paragraph():
    opening = "企业是创新的主体。"  # 10 tokens: a chunk of its own would be a runt
    chunks = chunk_article(article(f"{opening}\n{LONG_SENTENCE}"), max_tokens=160, overlap_tokens=40)
    assert chunks[0].text.startswith(opening + "\n第0家") and count_tokens(chunks[0].text) > 100


def test_run_without_any_break_is_still_split_within_budget():
    text = "创新" * 400
    chunks = chunk_article(article(text), max_tokens=50, overlap_tokens=10)
    assert all(count_tokens(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == text  # no overlap possible, nothing lost


def test_budget_arguments_are_checked():
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_article(article("一句。"), max_tokens=40, overlap_tokens=40)
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_article(article("一句。"), max_tokens=0, overlap_tokens=0)


# --- chunking: invariants on the seed corpus ----------------------------------------------


def test_chunks_are_exact_ordered_spans_of_the_article(seed_chunks):
    for article_, chunks in seed_chunks:
        assert chunks, article_.doc_id
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        for c in chunks:
            assert c.text == article_.text[c.start:c.end] and c.text == c.text.strip()
            assert (c.doc_id, c.title) == (article_.doc_id, article_.title)
            assert c.chunk_id == chunk_id(article_.doc_id, c.text)
        assert all(a.start < b.start and a.end < b.end for a, b in zip(chunks, chunks[1:]))


def test_every_chunk_is_within_budget(seed_chunks):
    for _, chunks in seed_chunks:
        assert max(count_tokens(c.text) for c in chunks) <= MAX


def test_every_sentence_is_covered(seed_chunks):
    for article_, chunks in seed_chunks:
        covered = [False] * len(article_.text)
        for c in chunks:
            covered[c.start:c.end] = [True] * (c.end - c.start)
        for start, end in split_sentences(article_.text):
            assert all(covered[start:end]), article_.text[start:end]
            if count_tokens(article_.text[start:end]) <= MAX:  # a sentence that fits is never cut
                assert any(c.start <= start and end <= c.end for c in chunks), article_.text[start:end]


def test_overlap_only_inside_a_paragraph_and_within_budget(seed_chunks):
    overlaps = 0
    for article_, chunks in seed_chunks:
        for prev, nxt in zip(chunks, chunks[1:]):
            if nxt.start < prev.end:
                overlaps += 1
                shared = article_.text[nxt.start:prev.end]
                assert "\n" not in shared and count_tokens(shared) <= OVERLAP
            else:
                assert article_.text[prev.end:nxt.start].strip() == ""  # nothing skipped
    assert overlaps > 0


def test_section_headings_never_end_a_chunk(seed_chunks):
    article_, chunks = seed_chunks[0]
    for heading in SECTION_HEADINGS:
        holders = [c for c in chunks if heading in c.text]
        assert holders and all(heading + "\n" in c.text for c in holders), heading


def test_each_chunk_carries_its_sentences_split_once(seed_chunks):
    for article_, chunks in seed_chunks:
        for c in chunks:
            spans = [(s.start, s.end) for s in c.sentences]
            assert spans == split_sentences(article_.text, c.start, c.end)  # the same split, stored
            assert spans[0][0] == c.start and spans[-1][1] == c.end


def test_headings_bylines_and_original_title_lines_are_not_quotable():
    text = ("原标题:探寻科技创新“密码”\n——我省组建创新联合体让企业行稳致远\n政府引导,组建创新联合体\n"
            "省科技厅会同省工信厅印发管理办法。启动组建第一批企业创新联合体5家。\n责任编辑: 张三\n")
    chunks = chunk_article(article(text), MAX, OVERLAP)
    quotable = {text[s.start:s.end]: s.quotable for c in chunks for s in c.sentences}
    assert quotable == {"原标题:探寻科技创新“密码”": False, "——我省组建创新联合体让企业行稳致远": False,
                        "政府引导,组建创新联合体": False, "省科技厅会同省工信厅印发管理办法。": True,
                        "启动组建第一批企业创新联合体5家。": True, "责任编辑: 张三": False}


def test_a_traditional_article_is_chunked_exactly_like_its_simplified_twin(seed_chunks):
    import opencc

    s2t = opencc.OpenCC("s2t")
    for article_, chunks in seed_chunks:
        twin = Article(doc_id=article_.doc_id, title=s2t.convert(article_.title), text=s2t.convert(article_.text))
        twin_chunks = chunk_article(twin, MAX, OVERLAP)
        assert [(c.start, c.end) for c in twin_chunks] == [(c.start, c.end) for c in chunks]
        assert [c.sentences for c in twin_chunks] == [c.sentences for c in chunks]


def test_a_one_paragraph_article_without_a_final_stop_is_still_quotable():
    # Reading-comprehension passages are often a single unterminated paragraph.
    chunks = chunk_article(article("该地区包括属于九个国家的领土"), MAX, OVERLAP)
    assert [s.quotable for c in chunks for s in c.sentences] == [True]


def test_chunking_is_deterministic_and_ids_follow_content(seed_chunks):
    article_, chunks = seed_chunks[0]
    again = chunk_article(seed_article(REPO / "corpus" / f"{article_.doc_id}.txt"), MAX, OVERLAP)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]
    edited = Article(doc_id=article_.doc_id, title=article_.title, text=article_.text + "补充一句。")
    edited_chunks = chunk_article(edited, MAX, OVERLAP)
    assert edited_chunks[0].chunk_id == chunks[0].chunk_id
    assert edited_chunks[-1].chunk_id != chunks[-1].chunk_id


@pytest.mark.slow
@pytest.mark.skipif(not CMRC_PASSAGES.exists(), reason="needs ../shared/bench/cmrc2018_dev")
def test_cmrc_passages_chunk_fast_and_within_budget():
    articles = []
    with CMRC_PASSAGES.open(encoding="utf-8") as lines:
        for line in lines:
            passage = json.loads(line)
            articles.append(article(passage["title"] + "\n" + passage["text"], passage["id"]))
    count_tokens("warm up")  # exclude building the encoding
    started = time.perf_counter()
    chunks = [c for a in articles for c in chunk_article(a)]
    assert time.perf_counter() - started < 10
    assert max(count_tokens(c.text) for c in chunks) <= MAX
