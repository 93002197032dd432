"""How well the cleaner keeps article text and drops page furniture, on saved news pages.

Each fixture under ``tests/data/pages/<split>/`` is ``NAME.html`` (as saved from a browser)
plus ``NAME.expected.json`` with the reference ``title``, ``body`` paragraphs and
``furniture`` lines.  Every page goes through the real ingest path
(:func:`assistant.ingest.read_article`) and is scored on:

* **kept** – share of reference body sentences (paragraphs split at 。！？!?) whose
  whitespace-free form occurs in the whitespace-free cleaned text;
* **furniture** – share of kept lines that match no body paragraph (neither contains nor is
  contained in one, whitespace-insensitive; the title line is ignored);
* **table rows** – a kept line written as a table row ("|指标|单位|数值|", "|---|---|") whose
  cells come from a data table (a grid of at least two rows of two or more cells, no table
  inside) that sits inside the article body (right after or before a reference paragraph in
  the page's text) is counted as neither body nor furniture: the table is article content,
  but the reference body lists paragraphs only; so is a note right under the table ("注：…") and
  its title right above it ("表：…"), and an attachment line ("附件：…");
* **title** – exact match; **rejected** – the page raised an error; **leaked** – listed
  furniture lines found in the cleaned text.

    python benchmarks/cleaner.py --split dev     # writes benchmarks/cleaner_dev.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.ingest import IngestError, read_article  # noqa: E402

PAGES = ROOT / "tests" / "data" / "pages"


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def sentences(paragraph: str) -> list[str]:
    return [s for s in re.findall(r"[^。！？!?]+[。！？!?]*", compact(paragraph)) if s]


_ROW = re.compile(r"^\|.*\|$")
_SEPARATOR = re.compile(r"^[|:\-\s]+$")
_NEAR = 40  # characters between a table and the body paragraph next to it (a caption, a heading)


def body_tables(html: Path, body: list[str]) -> list[str]:
    """Whitespace-free texts of the page's data tables that sit inside the article body."""
    from lxml import html as lxml_html

    from assistant.ingest import decode_bytes

    tree = lxml_html.fromstring(decode_bytes(html.read_bytes(), html))
    for junk in tree.xpath("//script | //style"):
        junk.drop_tree()
    page = compact(tree.text_content())
    found = []
    for table in tree.iter("table"):
        if any(inner is not table for inner in table.iter("table")):
            continue
        rows = [[c for c in row if c.tag in ("td", "th")] for row in table.iter("tr")]
        if len([r for r in rows if len(r) >= 2]) < 2:
            continue
        text = compact(table.text_content())
        at = page.find(text)
        if not text or at < 0:
            continue
        before, after = page[max(0, at - _NEAR) : at], page[at + len(text) : at + len(text) + _NEAR]
        if any(p[-12:] in before or p[:12] in after for p in body if len(p) >= 4):
            found.append(text)
    return found


def is_table_row(line: str, tables: list[str]) -> bool:
    """A kept line that is a row of one of ``tables`` (whitespace-free texts)."""
    if not tables or not _ROW.match(line):
        return False
    if _SEPARATOR.match(line):
        return True
    cells = [c for c in line.strip("|").split("|") if c]
    return bool(cells) and any(all(c in table for c in cells) for table in tables)


_TABLE_NOTE = re.compile(r"^(?:注|说明|備註|备注|数据来源|資料來源|资料来源)[:：0-9１-９]")


def table_lines(lines: list[str], tables: list[str]) -> list[str]:
    """The kept lines that belong to a data table of the body: its rows, and a note right under
    them ("注：数据为…") or its title right above ("表：…"), which the references, like the rows,
    list as neither body nor furniture."""
    out = []
    for i, line in enumerate(lines):
        if is_table_row(line, tables) or (i and lines[i - 1] in out and _TABLE_NOTE.match(line)):
            out.append(line)
        elif _TABLE_TITLE.match(line) and i + 1 < len(lines) and is_table_row(lines[i + 1], tables):
            out.append(line)  # the table's own title right above it ("表：…")
    return out


# "附件：…", "附件1：…": the references list attachment lines in neither body nor furniture.
ATTACHMENT = re.compile(r"^附件\s*[\d一二三四五六七八九十]*\s*[:：]")
_TABLE_TITLE = re.compile(r"^(?:表|表格|附表)\s*\d*\s*[:：]")


def score_page(html: Path) -> dict:
    expected = json.loads(html.with_suffix("").with_suffix(".expected.json").read_text(encoding="utf-8"))
    body = [compact(p) for p in expected["body"]]
    reference = [s for p in expected["body"] for s in sentences(p)]
    row = {"page": html.stem, "site": expected["site"], "sentences": len(reference)}
    try:
        article = read_article(html).article
    except IngestError as exc:
        return {**row, "rejected": str(exc), "kept": 0.0, "furniture": 0.0, "lines": 0, "title_ok": False, "leaked": []}
    text = compact(article.text)
    lines = [compact(line) for line in article.text.split("\n") if compact(line)]
    lines = [line for line in lines if line != compact(article.title)]
    tables = body_tables(html, body)
    rows = table_lines(lines, tables) + [line for line in lines if ATTACHMENT.match(line)]
    lines = [line for line in lines if line not in rows]  # neither body nor furniture
    furniture = [line for line in lines if not any(line in p or p in line for p in body)]
    return {
        **row,
        "rejected": None,
        "kept": sum(s in text for s in reference) / len(reference) if reference else 1.0,
        "furniture": len(furniture) / len(lines) if lines else 0.0,
        "lines": len(lines),
        "table_rows": len(rows),
        "furniture_lines": furniture,
        "title": article.title,
        "title_ok": article.title == expected["title"],
        "leaked": [f for f in expected["furniture"] if compact(f) in text],
        "lost": [s for s in reference if s not in text],
    }


def report(rows: list[dict], split: str) -> str:
    kept = sum(r["kept"] for r in rows) / len(rows)
    all_lines = sum(r["lines"] for r in rows)
    furniture = sum(round(r["furniture"] * r["lines"]) for r in rows) / all_lines if all_lines else 0.0
    out = [
        f"# Cleaner on `tests/data/pages/{split}/` ({len(rows)} pages)",
        "",
        f"`python benchmarks/cleaner.py --split {split}` — pages read by `assistant.ingest.read_article`. "
        "Kept rows of a data table inside the article body count as neither body nor furniture "
        f"({sum(r.get('table_rows', 0) for r in rows)} such rows here).",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| body sentences kept (mean over pages) | {kept:.3f} |",
        f"| pages keeping < 0.98 of their sentences | {sum(r['kept'] < 0.98 for r in rows)} |",
        f"| kept lines that are furniture (all pages) | {furniture:.3f} ({round(furniture * all_lines)} of {all_lines}) |",
        f"| titles exact | {sum(r['title_ok'] for r in rows)} / {len(rows)} |",
        f"| pages rejected | {sum(bool(r['rejected']) for r in rows)} |",
        f"| pages leaking listed furniture | {sum(bool(r['leaked']) for r in rows)} |",
        "",
        "| page | site | sentences | kept | furniture | title | problems |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        problems = []
        if r["rejected"]:
            problems.append(f"rejected: {r['rejected']}")
        else:
            if not r["title_ok"]:
                problems.append(f"title {r['title']!r}")
            problems += [f"lost {s[:20]!r}" for s in r["lost"]]
            problems += [f"furniture {line[:20]!r}" for line in r["furniture_lines"]]
            problems += [f"leaked {f!r}" for f in r["leaked"]]
        title = "ok" if r["title_ok"] else "no"
        out.append(f"| {r['page']} | {r['site']} | {r['sentences']} | {r['kept']:.2f} | {r['furniture']:.2f} | {title} | "
                   + ("; ".join(problems).replace("|", "\\|") or "—") + " |")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    args = parser.parse_args()
    pages = sorted((PAGES / args.split).glob("*.htm*"))
    if not pages:
        raise SystemExit(f"no pages under {PAGES / args.split}")
    markdown = report([score_page(p) for p in pages], args.split)
    (ROOT / "benchmarks" / f"cleaner_{args.split}.md").write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
