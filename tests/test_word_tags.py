"""jieba's word tags read from the stored table: the same tags, the same tagging, built once."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import jieba

from assistant import word_tags
from assistant.word_tags import dictionary_path, open_word_tags, read_word_tags

SENTENCES = [
    "甘肃省科技厅联合兰州大学组建了稀土功能材料创新联合体。",
    "遂宁市技术合同认定登记额达到12.5亿元，同比增长31%。",
    "内蒙古自治区鄂尔多斯市的企业牵头揭榜挂帅项目。",
    "Apple和华为在深圳发布了新产品，张伟出席。",
]


def test_the_stored_table_holds_jiebas_tags(tmp_path):
    dictionary = dictionary_path(jieba.dt)
    stored = open_word_tags(tmp_path, dictionary)
    assert stored is not None and Path(stored.location).parent == tmp_path
    from jieba.posseg import POSTokenizer

    reference = POSTokenizer(jieba.Tokenizer())  # jieba's own full load of the table
    words = sorted(reference.word_tag_tab)
    for word in random.Random(3).sample(words, 3000) + ["兰州", "创新", "鄂尔多斯"]:
        assert stored.get(word, "x") == reference.word_tag_tab[word], word
    assert stored.get("这不是一个词语吧", "x") == "x"
    assert "兰州" in stored and "这不是一个词语吧" not in stored


def test_a_second_open_reads_the_stored_file(tmp_path, monkeypatch):
    dictionary = dictionary_path(jieba.dt)
    first = open_word_tags(tmp_path, dictionary)

    def never(_lines):
        raise AssertionError("the stored table should have been used")

    monkeypatch.setattr(word_tags, "read_word_tags", never)
    second = open_word_tags(tmp_path, dictionary)
    assert second is not None and second.location == first.location
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_another_dictionary_gets_its_own_table(tmp_path):
    custom = tmp_path / "dict.txt"
    custom.write_text("创新联合体 100 nt\n揭榜挂帅 50 v\n", encoding="utf-8")
    stored = open_word_tags(tmp_path / "cache", custom)
    assert stored.get("创新联合体") == "nt" and stored.get("揭榜挂帅") == "v" and stored.get("兰州") is None
    assert read_word_tags(iter([b"a 1 n\n", b"\n", b"b 2\n"])) == {"a": "n"}


def test_an_unwritable_cache_gives_no_table(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert open_word_tags(blocked / "cache", dictionary_path(jieba.dt)) is None


_TAG_SCRIPT = """
import json, sys
from pathlib import Path
import jieba
jieba.setLogLevel(60)
jieba.add_word("遂宁高新区", tag="ns")
if sys.argv[1] == "stored":
    from assistant.word_tags import load_posseg
    posseg = load_posseg(Path(sys.argv[2]))
    assert type(posseg.dt.word_tag_tab).__name__ == "StoredWordTags"
else:
    import jieba.posseg as posseg
sentences = json.loads(sys.argv[3])
print(json.dumps([[(w.word, w.flag) for w in posseg.cut(s)] for s in sentences], ensure_ascii=False))
"""


def _tagged(mode: str, cache: Path, sentences: list[str]) -> list:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", _TAG_SCRIPT, mode, str(cache), json.dumps(sentences)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_fresh_processes_tag_exactly_as_jieba_does(tmp_path):
    sentences = SENTENCES + ["遂宁高新区发布了新政策。"]
    expected = _tagged("jieba", tmp_path, sentences)
    assert ["遂宁高新区", "ns"] in expected[-1]  # a word added with a tag keeps it
    for _ in range(2):  # the first run writes the table, the next reads it
        assert _tagged("stored", tmp_path, sentences) == expected
    assert len(list(tmp_path.glob("jieba-tags-*.sqlite"))) == 1
