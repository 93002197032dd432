"""Metric functions against small examples whose numbers are worked out by hand in the comments."""

import numpy as np
import pytest

from assistant.evaluation.metrics import (
    char_f1,
    citation_evidence_recall,
    citation_precision,
    doc_recall_at_k,
    evidence_covered,
    evidence_hit_at_k,
    evidence_hit_within_chars,
    first_covering_rank,
    mrr_at_k,
    normalize_for_match,
    percentile,
    quote_scores,
    quoted_reference,
    quotes_hold_answer,
    reciprocal_rank,
    refusal_metrics,
)

# --- normalize_for_match -----------------------------------------------------------------


def test_normalize_folds_full_width_and_keeps_numbers_whole():
    assert normalize_for_match("１７．７３％") == "17.73%"
    assert normalize_for_match("其中：国家级２个") == normalize_for_match("其中:国家级2个") == "其中国家级2个"


def test_normalize_drops_chinese_and_ascii_punctuation_whitespace_and_case():
    assert normalize_for_match("“企业出课题、高校院所搞攻关”") == "企业出课题高校院所搞攻关"
    assert normalize_for_match("  Ｈｅｌｌｏ，World！\u3000\n") == "helloworld"
    # A full stop after a word goes; a decimal point between digits stays; a thousands comma goes.
    assert normalize_for_match("end. v1.2 1,000") == "endv1.21000"


# --- evidence_covered ----------------------------------------------------------------------

# Normalised: 全市技术合同认定登记额达 (12) + 17.73 (5) + 亿元 (2) = 19 characters;
# 60% of 19 = 11.4, rounded up to 12 characters of common substring.
SUINING = "全市技术合同认定登记额达17.73亿元"


def test_evidence_contained_after_normalisation_is_covered():
    passage = "落户遂宁，全市技术合同认定登记额达１７．７３亿元、同比增长33.21%。"
    assert evidence_covered(SUINING, passage)


def test_evidence_cut_by_chunk_boundary_needs_min_overlap():
    # Passage ends after 全市技术合同认定登记额达: 12 of 19 characters -> 12 >= 12, covered.
    assert evidence_covered(SUINING, "……落户遂宁,全市技术合同认定登记额达")
    # Passage ends after 技术合同认定登记额达: 10 of 19 characters -> 10 < 12, not covered.
    assert not evidence_covered(SUINING, "……落户遂宁,技术合同认定登记额达")
    # min_overlap=1.0 asks for the whole evidence.
    assert not evidence_covered(SUINING, "……落户遂宁,全市技术合同认定登记额达", min_overlap=1.0)


def test_evidence_covered_rejects_bad_input():
    with pytest.raises(ValueError):
        evidence_covered("“”、。", "任何文本")  # nothing left after normalisation
    with pytest.raises(ValueError):
        evidence_covered(SUINING, SUINING, min_overlap=0)


# --- first_covering_rank / evidence_hit_at_k ------------------------------------------------

GANSU = "第一批企业创新联合体5家"
MONGOLIA = "共组建并备案各类创新联合体24个"
RANKED = [
    "兰州作为国家重要的科研教育基地。",
    "启动组建第一批企业创新联合体5家,打造企业创新共同体。",
    "推广“企业出课题、高校院所搞攻关”的科研模式。",
    "截至2022年5月,内蒙古共组建并备案各类创新联合体24个。",
]


def test_first_covering_rank_is_the_rank_of_the_last_evidence_needed():
    assert first_covering_rank([GANSU], RANKED) == 2
    assert first_covering_rank([GANSU, MONGOLIA], RANKED) == 4  # Gansu at 2, Inner Mongolia at 4
    assert first_covering_rank([GANSU, MONGOLIA], RANKED, k=3) is None


def test_evidence_hit_at_k_boundaries():
    assert evidence_hit_at_k([GANSU], RANKED, k=2)
    assert not evidence_hit_at_k([GANSU], RANKED, k=1)
    assert evidence_hit_at_k([GANSU, MONGOLIA], RANKED, k=50)  # k beyond the list is fine
    assert not evidence_hit_at_k([GANSU], [], k=10)
    with pytest.raises(ValueError):
        evidence_hit_at_k([], RANKED, k=10)  # unanswerable questions are scored elsewhere
    with pytest.raises(ValueError):
        evidence_hit_at_k([GANSU], RANKED, k=0)
    with pytest.raises(TypeError):
        evidence_hit_at_k(GANSU, RANKED, k=10)  # a bare string is not a list of evidence


# Normalised evidence 企业出课题高校院所搞攻关 is 12 characters; covering alone needs
# ceil(0.6 * 12) = 8. Chunk A ends with its first 5 (企业出课题), chunk B starts with its
# last 7 (高校院所搞攻关): neither covers it alone, but 5 + 7 = 12 together.
CUT_EVIDENCE = "企业出课题、高校院所搞攻关"
CHUNK_A = "在企业创新联合体内,推广“企业出课题、"
CHUNK_B = "高校院所搞攻关”的科研模式,试点开展科技成果转化。"


def test_evidence_cut_across_two_retrieved_chunks_is_covered_by_the_pair():
    assert not evidence_covered(CUT_EVIDENCE, CHUNK_A)
    assert not evidence_covered(CUT_EVIDENCE, CHUNK_B)
    assert first_covering_rank([CUT_EVIDENCE], [CHUNK_A, RANKED[0], CHUNK_B]) == 3
    assert first_covering_rank([CUT_EVIDENCE], [CHUNK_B, CHUNK_A]) == 2  # order does not matter
    assert first_covering_rank([CUT_EVIDENCE], [CHUNK_A, RANKED[0]]) is None


def test_one_passage_holding_both_halves_in_the_wrong_order_does_not_cover():
    wrapped = "高校院所搞攻关。其他内容。企业出课题、"  # starts with the tail, ends with the head
    assert first_covering_rank([CUT_EVIDENCE], [wrapped]) is None


# --- reciprocal rank / MRR -------------------------------------------------------------------


def test_reciprocal_rank_and_mrr():
    assert reciprocal_rank([GANSU], RANKED) == 0.5  # first covered at rank 2
    assert reciprocal_rank([MONGOLIA], RANKED, k=3) == 0.0
    # (1/1 + 1/2 + 0 + 1/4) / 4 = 1.75 / 4 = 0.4375
    assert mrr_at_k([1, 2, None, 4]) == pytest.approx(0.4375)
    # With k=3 the rank-4 question scores 0: (1 + 0.5) / 4 = 0.375
    assert mrr_at_k([1, 2, None, 4], k=3) == pytest.approx(0.375)
    with pytest.raises(ValueError):
        mrr_at_k([])


# --- doc_recall_at_k ------------------------------------------------------------------------


def test_doc_recall_at_k():
    ranked = ["c", "a", "a", "d", "b"]
    assert doc_recall_at_k(["a", "b"], ranked, k=3) == 0.5  # a in top 3, b at 5
    assert doc_recall_at_k(["a", "b"], ranked, k=5) == 1.0
    assert doc_recall_at_k(["a", "b"], ranked, k=10) == 1.0  # k beyond the list
    assert doc_recall_at_k(["a", "a"], ranked, k=2) == 1.0  # a gold doc counts once
    assert doc_recall_at_k(["a"], [], k=10) == 0.0
    with pytest.raises(ValueError):
        doc_recall_at_k([], ranked, k=3)


# --- evidence_hit_within_chars -----------------------------------------------------------------

# MONGOLIA normalised = 共组建并备案各类创新联合体24个 = 16 characters; 60% -> 10 needed.
FILLER_1000 = "无" * 1000
SECOND = "有" * 400 + MONGOLIA + "有" * 100  # the evidence starts at character 1400 of the ranking


def test_evidence_hit_within_chars_truncates_the_last_passage():
    assert evidence_hit_within_chars([MONGOLIA], [FILLER_1000, SECOND], budget=1500)  # all 16 inside
    assert evidence_hit_within_chars([MONGOLIA], [FILLER_1000, SECOND], budget=1410)  # 10 of 16: enough
    assert not evidence_hit_within_chars([MONGOLIA], [FILLER_1000, SECOND], budget=1409)  # 9 of 16
    assert not evidence_hit_within_chars([MONGOLIA], [FILLER_1000, FILLER_1000, MONGOLIA], budget=1500)


def test_one_big_passage_gets_no_more_than_the_budget():
    big = FILLER_1000 + "有" * 600 + MONGOLIA  # evidence starts at 1600
    assert evidence_hit_at_k([MONGOLIA], [big], k=1)
    assert not evidence_hit_within_chars([MONGOLIA], [big], budget=1500)
    assert not evidence_hit_within_chars([MONGOLIA], [], budget=1500)
    with pytest.raises(ValueError):
        evidence_hit_within_chars([], [big])


# --- citations ---------------------------------------------------------------------------------


def test_citation_evidence_recall():
    # GANSU is cited (RANKED[1]), MONGOLIA is cited (RANKED[3]), SUINING is not: 2 / 3.
    assert citation_evidence_recall([GANSU, MONGOLIA, SUINING], [RANKED[1], RANKED[3]]) == pytest.approx(2 / 3)
    assert citation_evidence_recall([GANSU], []) == 0.0


def test_citation_precision():
    assert citation_precision(["a"], ["a", "b", "a"]) == pytest.approx(2 / 3)  # 2 of 3 citations in gold
    assert citation_precision(["a", "b"], ["b"]) == 1.0
    assert citation_precision(["a"], []) == 0.0
    with pytest.raises(ValueError):
        citation_precision([], ["a"])


# --- refusal_metrics ---------------------------------------------------------------------------


def test_refusal_metrics_from_answerable_refused_pairs():
    records = [
        (False, True), (False, False), (False, True),  # unanswerable: 2 of 3 refused
        (True, False), (True, True), (True, False), (True, False),  # answerable: 1 of 4 refused
    ]
    scores = refusal_metrics(records)
    assert scores.refusal_accuracy == pytest.approx(2 / 3)
    assert scores.false_refusal_rate == pytest.approx(0.25)
    accuracy, false_refusals = scores  # unpacks as a plain pair
    assert (accuracy, false_refusals) == (scores.refusal_accuracy, 0.25)


def test_refusal_metrics_without_one_kind_of_question_is_none():
    assert refusal_metrics([(True, False), (True, True)]) == (None, 0.5)
    assert refusal_metrics([(False, True)]) == (1.0, None)
    assert refusal_metrics([]) == (None, None)


# --- char_f1 -------------------------------------------------------------------------------------


def test_char_f1_worked_example():
    # prediction 17.73亿元 = 7 characters, reference 达17.73亿元 = 8, all 7 shared:
    # P = 7/7, R = 7/8, F1 = 2 * 1 * 0.875 / 1.875 = 14/15 = 0.9333
    assert char_f1("17.73亿元", "达17.73亿元") == pytest.approx(14 / 15)
    assert char_f1("17.73亿元", "达17.73亿元") == pytest.approx(0.9333, abs=1e-4)


def test_char_f1_ignores_width_and_punctuation():
    assert char_f1("１７．７３亿元。", "17.73亿元") == 1.0
    assert char_f1("“强领军、强主干、强基础”", "强领军强主干强基础") == 1.0


def test_char_f1_counts_characters_as_a_multiset():
    # 亿亿元 vs 亿元: common = min(2,1) 亿 + 1 元 = 2; P = 2/3, R = 2/2; F1 = (4/3) / (5/3) = 0.8
    assert char_f1("亿亿元", "亿元") == pytest.approx(0.8)
    assert char_f1("兰州", "遂宁") == 0.0


def test_char_f1_takes_the_best_reference():
    # vs 五家: common 家 -> P 1/2, R 1/2, F1 0.5; vs 5家单位: common 5家 -> P 1, R 2/4, F1 = 1 / 1.5 = 0.667
    assert char_f1("5家", ["五家", "5家单位"]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        char_f1("5家", [])


def test_char_f1_empty_sides():
    assert char_f1("", "") == 1.0
    assert char_f1("。", "") == 1.0  # punctuation only is empty after normalisation
    assert char_f1("", "5家") == 0.0
    assert char_f1("5家", "") == 0.0


# --- percentile ----------------------------------------------------------------------------------


def test_percentile_interpolates_linearly():
    values = [40, 10, 30, 20]  # sorted 10 20 30 40
    assert percentile(values, 50) == 25.0  # position 3 * 0.5 = 1.5 -> halfway between 20 and 30
    assert percentile(values, 95) == pytest.approx(38.5)  # position 2.85 -> 30 + 0.85 * 10
    assert percentile(values, 0) == 10 and percentile(values, 100) == 40
    assert percentile([7.0], 95) == 7.0


def test_percentile_agrees_with_numpy():
    latencies = [12.5, 3.0, 8.25, 40.0, 7.5, 7.5, 19.0]
    for p in (5, 50, 90, 95, 99):
        assert percentile(latencies, p) == pytest.approx(float(np.percentile(latencies, p)))


def test_percentile_rejects_bad_input():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_quotes_hold_an_answer_first_later_or_not_at_all_and_the_shares_add_up():
    # Gold "5家" (full-width digits in a quote are normalised before matching).
    answered_first = (["5家"], False, ["组建创新联合体５家", "集聚40余家单位"])
    answered_later = (["5家"], False, ["集聚40余家单位", "组建创新联合体5家"])
    refused = (["5家"], True, ["组建创新联合体5家"])  # a refusal's related passages hold no answer
    assert quotes_hold_answer(*answered_first) == (True, True)
    assert quotes_hold_answer(*answered_later) == (False, True)
    assert quotes_hold_answer(*refused) == (False, False)
    assert quotes_hold_answer(["5家"], False, []) == (False, False)
    scores = quote_scores([answered_first, answered_later, refused])
    # first 1/3, any 2/3, refused 1/3; answered quotes: first 9 and 8 chars, all 17 and 17.
    assert (scores.first_quote, scores.any_quote, scores.refused) == pytest.approx((1 / 3, 2 / 3, 1 / 3))
    assert (scores.mean_first_quote_chars, scores.mean_quoted_chars) == (8.5, 17.0)


def test_a_reference_answer_is_looked_for_in_the_quotes_only_when_the_evidence_writes_it():
    evidence = ["2021年,内蒙古北方重工业集团有限公司与浙江大学等49家单位强强联合"]
    quotes_with_year = ["2021年,内蒙古北方重工业集团有限公司与浙江大学等49家单位强强联合"]
    quotes_without = ["目前已与浙江大学合作成立了特种液压泵阀室", "２０２１年"]  # the year, full-width, second
    assert quoted_reference("2021年", evidence, False, quotes_with_year) == (True, True)
    assert quoted_reference("2021年", evidence, False, quotes_without) == (False, True)
    assert quoted_reference("2021年", evidence, True, quotes_with_year) == (False, False)
    # A paraphrase the article does not write, or no reference: no quote could hold it.
    assert quoted_reference("in 2021, with 49 partners", evidence, False, quotes_with_year) is None
    assert quoted_reference(None, evidence, False, quotes_with_year) is None
