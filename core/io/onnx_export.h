#pragma once
// The trained bottom-up network as an ONNX classifier, the network a user deploys elsewhere
// (paper 000 §3: the DRMM's bottom-up E-step is this CNN): Conv (+ bias), BatchNormalization with
// the running statistics, Relu, MaxPool with stride = window, GlobalAveragePool and Flatten to
// the class scores ("logits", N×classes), and their Softmax q(c|I) ("probabilities").
#include <string>

namespace drmm {

class DrmmModel;

inline constexpr int kOnnxExportOpset = 13;

// Writes `model` (its current weights, downloaded from its backend) to `path`; throws FileError
// naming it when it cannot be written.
void export_onnx(DrmmModel& model, const std::string& path);

}  // namespace drmm
