"""The index of the decisions files (benchmarks/decisions_index.py) reads their headings and stays current."""

from benchmarks.decisions_index import OUT, decision_files, headings, render


def test_rules_results_and_amendment_paragraphs_are_listed_in_order():
    text = "\n".join([
        "# Decisions, a session",
        "## Rule 1 (written 10:00 UTC): a check",
        "Cause: something.",
        "Amendment to rule 1 (10:05 UTC, before any figure): the check reads the quote",
        "continued on a second line that is not listed",
        "### Result of rule 1: rejected",
        "## Rule 2: another",
        "An amendment in running text is not one.",
    ])
    assert headings(text) == [(2, "Rule 1 (written 10:00 UTC): a check"),
                              (3, "Amendment to rule 1 (10:05 UTC, before any figure): the check reads the quote"),
                              (3, "Result of rule 1: rejected"), (2, "Rule 2: another")]


def test_dated_files_in_date_order_and_not_the_index_itself(tmp_path):
    for name in ("decisions_2026-12-04.md", "decisions_2026-12-03b.md", "decisions_2026-12-03.md",
                 "decisions_index.md", "decisions_2026-12-18_rule1.patch"):
        (tmp_path / name).write_text("## Rule\n", encoding="utf-8")
    assert [p.name for p in decision_files(tmp_path)] == [
        "decisions_2026-12-03.md", "decisions_2026-12-03b.md", "decisions_2026-12-04.md"]


def test_the_committed_index_lists_every_decisions_file_as_it_is_now():
    # Regenerate with `python benchmarks/decisions_index.py` after writing a decisions file.
    assert OUT.read_text(encoding="utf-8") == render(decision_files())
