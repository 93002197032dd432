"""Rule 4 of benchmarks/decisions_2026-12-29.md (rejected; not in the product): which questions the
ordinal spellings (首批 <-> 第一批) change, answered in full with the shipped models before and after
(``changed_answers.judge``: dev1-7, dev7 by aggregate, and the public training parts). ``old``
gives no variant, as the product does.

The rule's code is kept as a patch; to re-run its judge:

    git apply benchmarks/decisions_2026-12-29_rule4.patch
    python benchmarks/ordinal_variants.py > benchmarks/ordinal_variants.txt   # ~3 min
    git apply -R benchmarks/decisions_2026-12-29_rule4.patch
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant.answer.terms as terms  # noqa: E402
import assistant.query as query  # noqa: E402
from benchmarks.changed_answers import judge  # noqa: E402

try:
    from assistant.entities import ordinal_variants as new  # noqa: E402  (only with the patch applied)
except ImportError:
    sys.exit("apply benchmarks/decisions_2026-12-29_rule4.patch first (see this script's docstring)")


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
