"""Each template in prompts/ uses exactly the fields its caller fills."""

from __future__ import annotations

import string

import pytest

from tests.conftest import REPO

FIELDS = {
    "answer.zh.txt": {"body"},
    "answer.en.txt": {"body"},
    "refusal.zh.txt": {"detail", "related"},
    "refusal.en.txt": {"detail", "related"},
    "comparison_gap.zh.txt": {"places"},
    "comparison_gap.en.txt": {"places"},
    "not_a_question.zh.txt": set(),
    "not_a_question.en.txt": set(),
    "llm_system.zh.txt": {"no_answer"},
    "llm_system.en.txt": {"no_answer"},
    "llm_user.zh.txt": {"passages", "question"},
    "llm_user.en.txt": {"passages", "question"},
    "llm_passage.txt": {"n", "title", "source", "date", "text"},
    "llm_condense.zh.txt": {"history", "question"},
    "llm_condense.en.txt": {"history", "question"},
    "llm_translate.txt": {"question"},
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_a_template_uses_exactly_its_fields(name):
    text = (REPO / "prompts" / name).read_text(encoding="utf-8")
    used = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    assert used == FIELDS[name]


def test_every_template_in_the_folder_is_known():
    assert {p.name for p in (REPO / "prompts").glob("*.txt")} == set(FIELDS)
