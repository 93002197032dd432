"""Rule 3 of benchmarks/decisions_2026-12-30.md: a proper phrase is also found without its last
word ("Belt and Road" for 一带一路, "Belt and Road Initiative"). Every English question of dev1-7
and of the public training parts whose expansion groups change, answered in full with the shipped
models before and after (``changed_answers.judge``; dev7 by aggregate).

    python benchmarks/proper_phrase_prefix.py > benchmarks/proper_phrase_prefix.txt   # ~4 min
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jieba  # noqa: E402

import assistant.answer.refusal as refusal  # noqa: E402
import assistant.query as query  # noqa: E402
import assistant.romanised as romanised  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.dictionary_store import open_dictionary  # noqa: E402
from assistant.word_tags import dictionary_path  # noqa: E402
from benchmarks.changed_answers import judge  # noqa: E402


def dictionary(shortened: bool):
    """The dictionary built with or without the shortened proper phrases (each cached apart)."""
    words = dictionary_path(jieba.dt)
    without_last_word = query._without_last_word
    if not shortened:
        query._without_last_word = lambda key: None
    try:
        return open_dictionary(Settings().cache_dir, [query.cedict_path(), query.GLOSSARY_PATH],
                               query.build_dictionary_entries,
                               stamp=f"{words.name}|{words.stat().st_size}" + ("" if shortened else "|unshortened"))
    finally:
        query._without_last_word = without_last_word


OLD, NEW = dictionary(False), dictionary(True)


def install(variant):
    query.load_dictionary = romanised.load_dictionary = lambda: variant
    for cached in (query.spelling_correction, query._words_by_length, query.renders_directly, refusal.title_in_chinese):
        cached.cache_clear()


def groups(answerer, text):
    return answerer.resolved(query.parse_query(text)).expansion_groups


if __name__ == "__main__":
    judge(OLD, NEW, install, groups, lang="en",
          public=(("cmrc2018_trial", "all"), ("cmrc2018_dev", "train"), ("xquad_zh", "train")))
