#!/usr/bin/python3
"""Validate an ONNX file with the official checker and summarise it, to check the models that
DRMM Studio exports (and the reference models it imports).

    /usr/bin/python3 tests/onnx/check_onnx.py model.onnx

Needs Debian's python3-onnx (1.12). Runs onnx.checker.check_model(full_check=True), which adds
strict shape inference to the structural checks, then prints ir_version, opsets, the node op
types, and the graph's inputs and outputs with their shapes. Exits 0 when the model is valid,
1 (with the checker's message) when it is not, 2 on bad usage.
"""

import sys

import onnx
from onnx import shape_inference

TENSOR_TYPE_NAMES = {v: k for k, v in onnx.TensorProto.DataType.items()}


def describe(value_info):
    t = value_info.type
    if not t.HasField("tensor_type"):
        return f"{value_info.name}: (non-tensor type {t.WhichOneof('value')})"
    tt = t.tensor_type
    elem = TENSOR_TYPE_NAMES.get(tt.elem_type, str(tt.elem_type))
    if not tt.HasField("shape"):
        return f"{value_info.name}: {elem} (shape unknown)"
    dims = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            dims.append(str(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append("?")
    return f"{value_info.name}: {elem} [{', '.join(dims)}]"


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = sys.argv[1]
    try:
        model = onnx.load(path)
    except Exception as e:  # a truncated or non-protobuf file surfaces as various exception types
        print(f"INVALID: cannot load {path}: {e}")
        return 1

    # The basic checker first, so that a structural error is reported as such rather than being
    # mistaken for a limitation of shape inference.
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        print(f"INVALID: {path} fails onnx.checker.check_model:\n{e}")
        return 1

    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, shape_inference.InferenceError) as e:
        # The structure passed, so this is strict shape inference failing: either a real
        # type/shape mismatch or an op whose shapes onnx 1.12 cannot infer. Both fail the check,
        # but say which stage raised so the reader can tell.
        print(f"INVALID: {path} passes the structural check but fails full_check "
              f"(strict shape inference, onnx {onnx.__version__}):\n{e}")
        return 1

    print(f"valid: {path} (onnx {onnx.__version__} checker, full_check=True)")
    print(f"ir_version: {model.ir_version}")
    opsets = ", ".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in model.opset_import)
    print(f"opset: {opsets}")
    if model.producer_name:
        print(f"producer: {model.producer_name} {model.producer_version}".rstrip())
    g = model.graph
    print(f"nodes ({len(g.node)}): {' '.join(n.op_type for n in g.node)}")
    # Before IR 4 initializers were listed among the inputs too; only the rest are fed.
    init_names = {t.name for t in g.initializer}
    for vi in g.input:
        if vi.name not in init_names:
            print(f"input  {describe(vi)}")
    for vi in g.output:
        print(f"output {describe(vi)}")
    print(f"initializers: {len(g.initializer)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
