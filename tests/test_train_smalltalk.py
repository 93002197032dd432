"""The small-talk check's training data: which chatterbot-corpus turns count as talk with the bot."""

from __future__ import annotations

import pytest

pytest.importorskip("chatterbot_corpus", reason="chatterbot-corpus is a dev extra")

from benchmarks.train_smalltalk import (  # noqa: E402
    ADDRESSED, ADDRESSED_CATEGORIES, SUBJECT_CATEGORIES, TALK_CATEGORIES, chatterbot_turns)


def test_turns_split_into_talk_with_the_bot_and_questions_about_a_subject():
    talk, subject = chatterbot_turns()
    assert len(talk) > 300 and len(subject) > 300
    assert {text for _, text in talk}.isdisjoint(text for _, text in subject)
    category = lambda label: label.split("/", 1)[1]  # noqa: E731
    assert {category(c) for c, _ in talk} <= set(TALK_CATEGORIES + ADDRESSED_CATEGORIES)
    assert {category(c) for c, _ in subject} <= set(SUBJECT_CATEGORIES + ADDRESSED_CATEGORIES)
    # A mixed category gives its turns addressed to the bot to talk, the rest to subjects.
    for label, text in talk + subject:
        if category(label) in ADDRESSED_CATEGORIES:
            assert bool(ADDRESSED.search(text)) == ((label, text) in talk)
    assert {c.split("/", 1)[0] for c, _ in talk} == {"english", "chinese"}
