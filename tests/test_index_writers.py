"""One writer at a time, and a write that cannot finish leaves the previous index working.

Everything runs the real CLI in subprocesses against a real index, as two users (or a user
and a script) would.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.index.store import LOCK_NAME, MANIFEST_NAME, load_index, writer_lock
from tests.test_cli import CLI, subprocess_env

WAIT_LIMIT_S = 120  # every loop below gives up after this long


@pytest.fixture()
def built(tmp_path, tiny_corpus) -> dict[str, Path]:
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    index_dir = tmp_path / "index"
    run = subprocess.run([*CLI, "ingest", "-q"], env=subprocess_env(index_dir, corpus), capture_output=True,
                         text=True, timeout=WAIT_LIMIT_S)
    assert run.returncode == 0, run.stderr
    return {"corpus": corpus, "index_dir": index_dir}


def _start(args: list[str], built, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], env=subprocess_env(built["index_dir"], built["corpus"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _data_folders(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("data-*"))


def test_two_forced_ingests_at_once_both_succeed_one_after_the_other(built):
    index_dir = built["index_dir"]
    first, second = _start(["ingest", "--force", "-q"], built), _start(["ingest", "--force", "-q"], built)
    outputs = [p.communicate(timeout=WAIT_LIMIT_S) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    manifest = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert _data_folders(index_dir) == [manifest["data_dir"]]  # the loser's generation is gone, none half-written
    assert len(load_index(index_dir).articles) == 3


def test_no_wait_refuses_while_another_process_writes(built):
    before = (built["index_dir"] / MANIFEST_NAME).read_bytes()
    with writer_lock(built["index_dir"]):
        run = _start(["ingest", "--force", "--no-wait", "-q"], built)
        out, err = run.communicate(timeout=WAIT_LIMIT_S)
    assert run.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "another process is writing" in lines[0]
    assert out == "" and (built["index_dir"] / MANIFEST_NAME).read_bytes() == before


def test_a_second_writer_says_it_waits_then_runs_when_the_first_is_done(built):
    with writer_lock(built["index_dir"]):
        run = _start(["ingest", "--force", "-q"], built)
        deadline = time.monotonic() + WAIT_LIMIT_S
        stderr_lines: list[str] = []
        while time.monotonic() < deadline and run.poll() is None:
            line = run.stderr.readline()
            stderr_lines.append(line)
            if "waiting" in line:
                break
        assert any("another process is writing" in line and "waiting" in line for line in stderr_lines), stderr_lines
        assert run.poll() is None  # still waiting while the lock is held
    out, err = run.communicate(timeout=WAIT_LIMIT_S)
    assert run.returncode == 0, err
    assert "indexed 3 articles" in out


def test_readers_do_not_wait_for_a_writer(built):
    with writer_lock(built["index_dir"]):
        run = _start(["ask", "--json", "遂宁市技术合同认定登记额是多少？"], built)
        out, err = run.communicate(timeout=WAIT_LIMIT_S)
    assert run.returncode == 0, err
    assert "17.73" in json.loads(out)["answer"]


def _limit_file_size(limit_bytes: int):
    def apply() -> None:
        # Writes past the limit then fail with EFBIG, as they fail with ENOSPC on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.skipif(sys.platform != "linux", reason="file-size limits are how the test fills the disk")
def test_no_room_to_write_is_one_line_and_the_old_index_keeps_working(built):
    index_dir = built["index_dir"]
    before = (index_dir / MANIFEST_NAME).read_bytes()
    generation = _data_folders(index_dir)
    # A new article far larger than any file the limit allows.
    (built["corpus"] / "d_long.txt").write_text("长文章\n" + "甘肃省推动科技成果转化，建设创新联合体。\n" * 4000, encoding="utf-8")
    run = _start(["ingest", "-q"], built, preexec_fn=_limit_file_size(64 * 1024))
    out, err = run.communicate(timeout=WAIT_LIMIT_S)
    assert run.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no room to write the index"), err
    assert "previous index is unchanged" in lines[0] and "unexpected" not in lines[0]
    assert (index_dir / MANIFEST_NAME).read_bytes() == before
    assert _data_folders(index_dir) == generation  # the half-written generation was removed
    assert len(load_index(index_dir).articles) == 3


def test_leftovers_of_a_killed_writer_are_removed_by_the_next_one(built):
    index_dir = built["index_dir"]
    (index_dir / "data-0123456789ab").mkdir()  # a generation whose manifest switch never happened
    (index_dir / "data-0123456789ab" / "chunks.jsonl").write_text("{}\n", encoding="utf-8")
    (index_dir / f".{MANIFEST_NAME}.deadbeef.tmp").write_text("{", encoding="utf-8")
    (built["corpus"] / "c_gansu.txt").write_text("甘肃新闻\n甘肃省组建第二批企业创新联合体8家。\n", encoding="utf-8")
    run = subprocess.run([*CLI, "ingest", "-q"], env=subprocess_env(index_dir, built["corpus"]), capture_output=True,
                         text=True, timeout=WAIT_LIMIT_S)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert _data_folders(index_dir) == [manifest["data_dir"]]
    assert sorted(p.name for p in index_dir.iterdir()) == sorted([LOCK_NAME, MANIFEST_NAME, manifest["data_dir"]])


def _finished_checkpoints(index_dir: Path) -> list[Path]:
    """Checkpoint files fully written (a file still being written is hidden under a dot-name)."""
    return [p for p in (index_dir / ".partial").glob("*.npz") if not p.name.startswith(".")]


def test_a_killed_ingest_keeps_what_it_had_embedded_and_the_next_one_reuses_it(built):
    index_dir = built["index_dir"]
    places = ["兰州", "天水", "白银", "武威", "张掖", "酒泉", "庆阳", "定西", "陇南", "平凉"]
    lines = [f"{places[i % 10]}第{i}号企业创新联合体在{2000 + i % 25}年承担了第{i * 7}项重大科技任务。" for i in range(320)]
    (built["corpus"] / "e_many.txt").write_text("企业创新联合体名录\n" + "\n".join(lines) + "\n", encoding="utf-8")
    before = (index_dir / MANIFEST_NAME).read_bytes()
    run = _start(["ingest", "-q"], built)
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline and run.poll() is None and not _finished_checkpoints(index_dir):
        time.sleep(0.05)
    assert run.poll() is None, "the ingest finished before it could be killed; give it more text"
    run.kill()
    run.communicate(timeout=WAIT_LIMIT_S)
    assert (index_dir / MANIFEST_NAME).read_bytes() == before  # the old index is still the current one
    assert len(load_index(index_dir).articles) == 3
    again = subprocess.run([*CLI, "ingest", "-q"], env=subprocess_env(index_dir, built["corpus"]), capture_output=True,
                           text=True, timeout=WAIT_LIMIT_S)
    assert again.returncode == 0, again.stderr
    embedded, reused = map(int, re.search(r"(\d+) embedded, (\d+) reused", again.stdout).groups())
    assert reused >= 128 + 12 and embedded < 320  # the killed run's checkpoint plus the old index's vectors
    assert not (index_dir / ".partial").exists()
    assert len(load_index(index_dir).articles) == 4
