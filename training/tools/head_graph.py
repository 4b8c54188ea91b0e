"""Writes DMLNet's metric head as an ONNX graph, to measure it inside onnxruntime against the TypeScript head.

  cd training && /usr/bin/python3 -m tools.head_graph OUT.onnx D SMAX SFLOOR BETA GAMMA

Inputs: embedding [1, D, H, W], prototypes [K, D]. Outputs: score [1, H, W] (combined), nearest [1, H, W]
(int64 argmin of the squared distances), the same maths as src-main/engine/metric-head.ts.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out, dim = sys.argv[1], int(sys.argv[2])
    smax, sfloor, beta, gamma = (float(v) for v in sys.argv[3:7])
    const = lambda name, value: numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)  # noqa: E731
    n = helper.make_node
    nodes = [
        n("Mul", ["embedding", "embedding"], ["sq"]),
        n("ReduceSum", ["sq", "axis1"], ["ff"], keepdims=1),
        n("Reshape", ["prototypes", "w_shape"], ["w4"]),
        n("Conv", ["embedding", "w4"], ["dots"]),
        n("Mul", ["prototypes", "prototypes"], ["psq"]),
        n("ReduceSum", ["psq", "axis1"], ["pp"], keepdims=0),
        n("Reshape", ["pp", "pp_shape"], ["pp4"]),
        n("Mul", ["dots", "minus_two"], ["m2dots"]),
        n("Add", ["ff", "m2dots"], ["t1"]),
        n("Add", ["t1", "pp4"], ["t2"]),
        n("Relu", ["t2"], ["d"]),
        n("ReduceSum", ["d", "axis1"], ["s"], keepdims=0),
        n("Min", ["s", "smax"], ["sc"]),
        n("Sub", ["smax", "sc"], ["headroom"]),
        n("Mul", ["headroom", "eds_scale"], ["eds"]),
        n("Neg", ["d"], ["negd"]),
        n("Softmax", ["negd"], ["p"], axis=1),
        n("ReduceMax", ["p"], ["pmax"], axes=[1], keepdims=0),
        n("Sub", ["one", "pmax"], ["mmsp"]),
        n("Sub", ["eds", "gamma"], ["eg"]),
        n("Mul", ["eg", "beta"], ["z"]),
        n("Sigmoid", ["z"], ["alpha"]),
        n("Sub", ["eds", "mmsp"], ["diff"]),
        n("Mul", ["alpha", "diff"], ["ad"]),
        n("Add", ["mmsp", "ad"], ["score"]),
        n("ArgMin", ["d"], ["nearest"], axis=1, keepdims=0),
    ]
    inits = [const("minus_two", -2.0), const("smax", smax), const("eds_scale", 1.0 / (smax - sfloor)),
             const("one", 1.0), const("beta", beta), const("gamma", gamma),
             numpy_helper.from_array(np.asarray([1, -1, 1, 1], dtype=np.int64), "pp_shape"),
             numpy_helper.from_array(np.asarray([-1, dim, 1, 1], dtype=np.int64), "w_shape"),
             numpy_helper.from_array(np.asarray([1], dtype=np.int64), "axis1")]
    graph = helper.make_graph(
        nodes, "metric-head",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, dim, "h", "w"]),
         helper.make_tensor_value_info("prototypes", TensorProto.FLOAT, ["k", dim])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, "h", "w"]),
         helper.make_tensor_value_info("nearest", TensorProto.INT64, [1, "h", "w"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
