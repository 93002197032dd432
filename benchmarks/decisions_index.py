"""One page listing every rule the decisions files record and what became of it.

Each session writes its rules into a dated ``benchmarks/decisions_*.md`` before running them, and
their results after. Thirty-odd files later, a change tried and rejected once is easily tried
again (the English trees' refit of 2026-12-18 was judged a second time on 2026-12-21 before
anyone found the first). This page is the table of contents: per file, each rule's heading
(``## ``) with the headings of its results and amendments (``### ``) under it, in file order.
Read it before writing a rule; grep the file it names for the figures.

    python benchmarks/decisions_index.py    # -> benchmarks/decisions_index.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "benchmarks"
OUT = FOLDER / "decisions_index.md"
HEADING = re.compile(r"^(##|###) (.+?)\s*$")
# Amendments were often written as a paragraph under their rule, not as a heading; their first line
# is listed with the results (an amendment can withdraw what a result took).
AMENDMENT = re.compile(r"^((?:Amendment|Amended|Note on)\b.+?)\s*$")
DATED = re.compile(r"decisions_(\d{4}-\d{2}-\d{2})([a-z]?)$")


def _file_order(path: Path) -> tuple[str, str]:
    # decisions_2026-12-03.md before decisions_2026-12-03b.md: the date, then the letter
    match = DATED.match(path.stem)
    return match.group(1), match.group(2)


def decision_files(folder: Path = FOLDER) -> list[Path]:
    """The dated decisions files (not this index, which shares their prefix)."""
    return sorted((p for p in folder.glob("decisions_*.md") if DATED.match(p.stem)), key=_file_order)


def headings(text: str) -> list[tuple[int, str]]:
    """The file's rule (level 2) and result or amendment (level 3) headings, in order; its title is
    not one."""
    out = []
    for line in text.splitlines():
        match = HEADING.match(line)
        if match:
            out.append((len(match.group(1)), match.group(2)))
        elif amendment := AMENDMENT.match(line):
            out.append((3, amendment.group(1)))
    return out


def render(files: list[Path]) -> str:
    lines = ["# Decisions: every rule and its result, by file", "",
             "Written by `python benchmarks/decisions_index.py` from the `## ` (a rule, a diagnosis, a "
             "run) and `### ` (its result) headings of `benchmarks/decisions_*.md`, with the first line "
             "of each paragraph that amends one (\"Amendment …\", \"Amended …\", \"Note on …\"). "
             "The figures are in the files.", ""]
    for path in files:
        found = headings(path.read_text(encoding="utf-8"))
        if not found:
            continue
        lines += [f"## {path.name}", ""]
        for level, text in found:
            lines.append(f"- {text}" if level == 2 else f"  - {text}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    OUT.write_text(render(decision_files()), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
