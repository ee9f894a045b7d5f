#!/usr/bin/env python3
# Writes tests/onnx/models/view_flatten.{onnx,input.bin,logits.bin}: a CNN whose forward flattens
# with x.view(x.size(0), -1), which torch.onnx.export writes as Shape → Gather → Unsqueeze →
# Concat → Reshape, with 4 input images and PyTorch's logits for them. The importer must fold
# that shape arithmetic (OnnxRoundTrip.ShapeArithmeticOfAViewFlattenImports).
#   /usr/bin/python3 tests/onnx/make_shape_arithmetic_model.py
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


class ViewFlatten(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.linear = torch.nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.linear(x.view(x.size(0), -1))


def main():
    torch.manual_seed(3)
    model = ViewFlatten().eval()
    images = torch.rand(4, 1, 28, 28)
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(model, images[:1], os.path.join(OUT, "view_flatten.onnx"), opset_version=13,
                      input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    with torch.no_grad():
        logits = model(images)
    images.numpy().astype("<f4").tofile(os.path.join(OUT, "view_flatten.input.bin"))
    logits.numpy().astype("<f4").tofile(os.path.join(OUT, "view_flatten.logits.bin"))


if __name__ == "__main__":
    main()
