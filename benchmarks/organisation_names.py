"""Rule 3 of benchmarks/decisions_2026-12-28.md: which questions the legal-form reading of company
names changes, answered in full with the shipped models before and after.

Only a question whose ``entities.organisations()`` output changes can answer differently, so those
are listed from the dev splits (dev7 by aggregate only) and the public training parts, and each is
answered with the previous ``is_organisation_name`` (copied below as ``old``) and the shipped one.
The test splits and the public test parts are never read.

    python benchmarks/organisation_names.py > benchmarks/organisation_names.txt   # ~3 min
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import assistant.entities as E  # noqa: E402
from assistant.query import parse_query  # noqa: E402
from benchmarks.changed_answers import judge  # noqa: E402

new = E.is_organisation_name


def old(name):
    words = [(w.word, w.flag) for w in E.posseg().cut(name)]
    if len(words) == 1:
        return words[0][1] in E._PROPER_TAGS
    suffix = E._ORGANISATION_SUFFIX.search(name)
    before = [flag for word, flag in words if suffix is None or name.find(word) < suffix.start()]
    return not before or before[-1] in E._PROPER_TAGS


def install(variant):
    E.is_organisation_name = variant


def organisations(answerer, text):
    return E.organisations(answerer.resolved(parse_query(text)).match)


if __name__ == "__main__":
    judge(old, new, install, organisations,
          public=(("cmrc2018_trial", "all"), ("cmrc2018_dev", "train"), ("xquad_zh", "train")))
