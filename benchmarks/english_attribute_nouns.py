"""Rule 3 of benchmarks/decisions_2026-12-29.md: which English questions the "mostly a noun"
reading of the unknown-attribute check changes, answered in full with the shipped models before
and after (``changed_answers.judge``: dev1-7, dev7 by aggregate, and XQuAD train, the public
training part with English questions). ``old`` is the previous ``refusal._names_a_thing``.

    python benchmarks/english_attribute_nouns.py > benchmarks/english_attribute_nouns.txt   # ~2 min
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant.answer.refusal as R  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from assistant.wordnet import is_inflected_verb, is_noun, is_verb  # noqa: E402
from benchmarks.changed_answers import judge  # noqa: E402

new = R._names_a_thing


def old(word):
    return is_noun(word) and not is_verb(word) and not is_inflected_verb(word)


def install(variant):
    R._names_a_thing = variant


def unknown(answerer, text):
    return R._english_unknown(answerer.resolved(parse_query(text)), answerer.index.terms)


if __name__ == "__main__":
    judge(old, new, install, unknown, public=(("xquad_zh", "train"),), lang="en")
