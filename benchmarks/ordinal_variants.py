"""Rule 4 of benchmarks/decisions_2026-12-29.md: which questions the ordinal spellings (首批 <->
第一批) change, answered in full with the shipped models before and after
(``changed_answers.judge``: dev1-7, dev7 by aggregate, and the public training parts). ``old``
gives no variant. Rejected alone that day; shipped later together with the quoting of a
split statement (rule 1 of decisions_2026-12-30.md, judged by ``split_statements.py``), so the
change is now in the product and this judge compares the product with the spellings taken out.

    python benchmarks/ordinal_variants.py > benchmarks/ordinal_variants.txt   # ~3 min
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant.answer.terms as terms  # noqa: E402
import assistant.query as query  # noqa: E402
from benchmarks.changed_answers import judge  # noqa: E402

from assistant.entities import ordinal_variants as new  # noqa: E402


def old(word):
    return ()


def install(variant):
    query.ordinal_variants = variant
    terms.ordinal_variants = variant


def matched(answerer, text):
    parsed = answerer.resolved(query.parse_query(text))
    return parsed.lexical_tokens, terms.question_terms(parsed, answerer.index.terms)


if __name__ == "__main__":
    judge(old, new, install, matched,
          public=(("cmrc2018_trial", "all"), ("cmrc2018_dev", "train"), ("xquad_zh", "train")))
