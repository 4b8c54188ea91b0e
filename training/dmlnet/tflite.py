"""Read a TensorFlow Lite model file into float tensors and a list of operators.

A .tflite file is a FlatBuffer (schema: tensorflow/lite/schema/schema.fbs). This reader walks the few
tables we need by hand, so nothing beyond NumPy is required: the model's tensors (shape, type, name,
quantisation and, for constants, their data) and its operators (builtin code, inputs, outputs, options).

Quantised constants are dequantised here (`real = scale * (q - zero_point)`, one scale per tensor or per
channel along `quantized_dimension`); int32 biases carry their own scale (input scale x weight scale).
Layouts stay as TFLite stores them (convolutions OHWI, depthwise 1HW(C*M)); `tflite_graph.py` turns them
into PyTorch's.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

# Builtin operator codes (schema.fbs, enum BuiltinOperator) of the ops our loaders execute.
OPS = {0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
       6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU",
       21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 25: "SOFTMAX", 40: "MEAN", 56: "ARG_MAX",
       97: "RESIZE_NEAREST_NEIGHBOR", 114: "QUANTIZE", 117: "HARD_SWISH", 34: "PAD", 43: "SQUEEZE", 69: "TILE"}
# TensorType -> NumPy dtype.
DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
          9: np.int8}
ACTIVATIONS = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH"}


class TFLiteError(ValueError):
    """The file is not a TFLite model this reader understands; the message names the file and the part."""


class _Table:
    """One FlatBuffer table: field i's value sits at the offset its vtable gives (0 = absent)."""

    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        vsize = struct.unpack_from("<H", buf, vtable)[0]
        self.slots = [struct.unpack_from("<H", buf, vtable + 4 + 2 * i)[0] for i in range((vsize - 4) // 2)]

    def _at(self, i):
        return self.slots[i] if i < len(self.slots) else 0

    def scalar(self, i, fmt, default=0):
        o = self._at(i)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + o)[0] if o else default

    def _ref(self, i):
        o = self._at(i)
        if not o:
            return None
        p = self.pos + o
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, i):
        p = self._ref(i)
        return None if p is None else _Table(self.buf, p)

    def _vector(self, i):
        p = self._ref(i)
        if p is None:
            return None, 0
        return p + 4, struct.unpack_from("<I", self.buf, p)[0]

    def tables(self, i):
        start, n = self._vector(i)
        if start is None:
            return []
        return [_Table(self.buf, start + 4 * k + struct.unpack_from("<I", self.buf, start + 4 * k)[0])
                for k in range(n)]

    def array(self, i, dtype):
        start, n = self._vector(i)
        if start is None:
            return np.zeros(0, dtype)
        return np.frombuffer(self.buf, dtype=np.dtype(dtype).newbyteorder("<"), count=n, offset=start)

    def string(self, i):
        start, n = self._vector(i)
        return "" if start is None else self.buf[start:start + n].decode("utf-8", "replace")


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    dtype: type
    scale: np.ndarray  # empty when not quantised
    zero_point: np.ndarray
    quantized_dimension: int
    data: np.ndarray | None  # raw constant data (None for activations)

    def value(self) -> np.ndarray:
        """The constant as float32, dequantised: scale * (q - zero_point), per channel if the scale is."""
        if self.data is None:
            raise TFLiteError(f"tensor {self.name!r} is not a constant")
        q = self.data.astype(np.float32)
        if self.scale.size == 0 or self.dtype in (np.float32, np.float16):
            return q
        shape = [1] * q.ndim
        if self.scale.size > 1:
            shape[self.quantized_dimension] = -1
        return ((q - self.zero_point.reshape(shape).astype(np.float32))
                * self.scale.reshape(shape).astype(np.float32))


@dataclass
class Operator:
    op: str
    inputs: list
    outputs: list
    options: dict = field(default_factory=dict)


@dataclass
class TFLiteModel:
    path: str
    tensors: list
    operators: list
    inputs: list
    outputs: list

    def consumers(self, tensor_index):
        return [op for op in self.operators if tensor_index in op.inputs]


def _options(op_name, t: _Table | None) -> dict:
    """The builtin options we use (schema.fbs: Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions, ...)."""
    if t is None:
        return {}
    if op_name == "CONV_2D":
        return {"padding": t.scalar(0, "b"), "stride": (t.scalar(2, "i"), t.scalar(1, "i")),
                "activation": ACTIVATIONS[t.scalar(3, "b")], "dilation": (t.scalar(5, "i", 1), t.scalar(4, "i", 1))}
    if op_name == "DEPTHWISE_CONV_2D":
        return {"padding": t.scalar(0, "b"), "stride": (t.scalar(2, "i"), t.scalar(1, "i")),
                "multiplier": t.scalar(3, "i"), "activation": ACTIVATIONS[t.scalar(4, "b")],
                "dilation": (t.scalar(6, "i", 1), t.scalar(5, "i", 1))}
    if op_name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return {"padding": t.scalar(0, "b"), "stride": (t.scalar(2, "i"), t.scalar(1, "i")),
                "kernel": (t.scalar(4, "i"), t.scalar(3, "i")), "activation": ACTIVATIONS[t.scalar(5, "b")]}
    if op_name in ("ADD", "MUL"):
        return {"activation": ACTIVATIONS[t.scalar(0, "b")]}
    if op_name == "CONCATENATION":
        return {"axis": t.scalar(0, "i"), "activation": ACTIVATIONS[t.scalar(1, "b")]}
    if op_name == "FULLY_CONNECTED":
        return {"activation": ACTIVATIONS[t.scalar(0, "b")]}
    if op_name in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"):
        return {"align_corners": bool(t.scalar(2 if op_name == "RESIZE_BILINEAR" else 0, "b")),
                "half_pixel_centers": bool(t.scalar(3 if op_name == "RESIZE_BILINEAR" else 1, "b"))}
    if op_name == "MEAN":
        return {"keep_dims": bool(t.scalar(0, "b"))}
    if op_name == "SOFTMAX":
        return {"beta": t.scalar(0, "f", 1.0)}
    return {}


def read_tflite(path: str) -> TFLiteModel:
    """Parse a .tflite file's first subgraph. Raises TFLiteError naming the file on anything unexpected."""
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise TFLiteError(f"{path}: cannot read ({e.strerror})") from None
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise TFLiteError(f"{path}: not a TFLite file (no 'TFL3' identifier)")
    try:
        model = _Table(buf, struct.unpack_from("<I", buf, 0)[0])
        return _parse(path, model)
    except (struct.error, IndexError, KeyError) as e:
        raise TFLiteError(f"{path}: damaged or unsupported TFLite file ({e})") from None


def _parse(path, model: _Table) -> TFLiteModel:
    codes = []
    for oc in model.tables(1):
        code = max(oc.scalar(0, "b"), oc.scalar(3, "i"))  # deprecated int8 code or the int32 one
        codes.append(code)
    buffers = [b.array(0, np.uint8) for b in model.tables(4)]
    subgraphs = model.tables(2)
    if not subgraphs:
        raise TFLiteError(f"{path}: no subgraph")
    g = subgraphs[0]
    tensors = []
    for i, t in enumerate(g.tables(0)):
        dtype = DTYPES.get(t.scalar(1, "b"))
        if dtype is None:
            raise TFLiteError(f"{path}: tensor {i} has unsupported type {t.scalar(1, 'b')}")
        shape = tuple(int(s) for s in t.array(0, np.int32))
        raw = buffers[t.scalar(2, "I")] if buffers else np.zeros(0, np.uint8)
        data = raw.view(dtype).reshape(shape) if raw.size else None
        q = t.table(4)
        scale = q.array(2, np.float32) if q else np.zeros(0, np.float32)
        zp = q.array(3, np.int64) if q else np.zeros(0, np.int64)
        qdim = q.scalar(6, "i") if q else 0
        tensors.append(Tensor(i, t.string(3), shape, dtype, scale, zp, qdim, data))
    operators = []
    for o in g.tables(3):
        code = codes[o.scalar(0, "I")]
        name = OPS.get(code)
        if name is None:
            raise TFLiteError(f"{path}: operator code {code} is not supported by this reader")
        operators.append(Operator(name, [int(v) for v in o.array(1, np.int32)],
                                  [int(v) for v in o.array(2, np.int32)], _options(name, o.table(4))))
    return TFLiteModel(path, tensors, operators, [int(v) for v in g.array(1, np.int32)],
                       [int(v) for v in g.array(2, np.int32)])
