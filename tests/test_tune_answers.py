"""The tuning script's budget: false refusals are judged per public set, against the issue's targets."""

from __future__ import annotations

from benchmarks.tune_answers import (
    MAX_FALSE_REFUSALS_DEV, MAX_FALSE_REFUSALS_PUBLIC, MIN_SET_QUESTIONS, Case, judged_sets, public_false_refusals,
    within_budget)


def _case(source: str, n: int) -> Case:
    return Case(lang="zh", query=n, hits=[], selection=None, answerer=None, answerable=True, source=source)


def test_each_public_set_is_judged_on_its_own_and_a_set_too_small_is_not():
    big = [_case("cmrc", i) for i in range(MIN_SET_QUESTIONS)]
    translated = [_case("xquad", i) for i in range(MIN_SET_QUESTIONS)]
    tiny = [_case("trial", i) for i in range(3)]
    assert judged_sets(big + translated + tiny) == ["cmrc", "xquad"]

    # Refuse 1% of one set and 5% of the other: pooled that is 3%, but the target holds per set.
    def refused(c: Case) -> bool:
        return c.query < (MIN_SET_QUESTIONS // 100 if c.source == "cmrc" else 5 * MIN_SET_QUESTIONS // 100)
    rates = public_false_refusals(big + translated + tiny, refused)
    assert set(rates) == {"cmrc", "xquad"}
    assert rates["cmrc"] == 0.01 and rates["xquad"] == 0.05
    assert not within_budget(0.0, rates)
    assert within_budget(MAX_FALSE_REFUSALS_DEV, {"cmrc": 0.01, "xquad": MAX_FALSE_REFUSALS_PUBLIC})
    assert not within_budget(MAX_FALSE_REFUSALS_DEV + 0.01, {"cmrc": 0.0})
