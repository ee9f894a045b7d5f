#pragma once
// CNNs from other tools as DRMMs: an ONNX graph read into a layer stack and its weights.
//
// Paper 000 §3 and paper 004 Thm. 3.2: a CNN's inference is DRMM inference (the convolutions are
// the templates, ReLU the template switches a, max pooling the position switches t, the biases
// the log-priors of the rendering), so a CNN made of the ops the engine has is a DRMM, with every
// view of the app. The importer takes Conv (with or without bias), BatchNormalization, Relu,
// MaxPool, AveragePool over the whole map, GlobalAveragePool, ReduceMean over H and W, Flatten,
// Reshape to a vector (also the Shape → Gather → Unsqueeze → Concat arithmetic of
// x.view(x.size(0), -1), folded), Gemm and MatMul (a conv whose kernel covers the map), Add (a
// bias), Transpose of a constant, Softmax, LogSoftmax, Dropout and Identity, on one path from the
// image to the scores. Rewrites
// it makes are exact (they change no output) and listed in ImportedNetwork::notes; a node it
// cannot represent exactly is refused with an error naming the node, its op type and why.
//
// protobuf stays inside this library (core/io): the model library knows nothing of ONNX.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/model_spec.h"
#include "core/train/checkpoint.h"

namespace drmm {

class DrmmModel;

// A tensor of an ONNX file or of a serialized TensorProto (.pb), as float values.
struct OnnxTensor {
  std::string name;
  std::vector<int64_t> dims;
  std::vector<float> values;
};
// Throws FileError naming `path` when it is no TensorProto or holds no float data.
OnnxTensor read_onnx_tensor(const std::string& path);

struct OnnxImportOptions {
  // Values for graph inputs other than the images, by input name (an ONNX backend test passes a
  // Conv's weights as inputs); they are used as the constants the engine needs.
  std::map<std::string, OnnxTensor> bound_inputs;
  // false: the graph must be a classifier, its output one score per class. true: its output may
  // be any map the layer stack computes (ImportedNetwork::output_level says which layer's); the
  // stack then gets a class layer (an identity 1×1 conv, when the last layer is no conv) and a
  // mean pool on top so that it is a model the engine runs.
  bool any_output = false;
};

struct ImportedNetwork {
  ModelSpec spec;                   // shapes resolved; classes = the class layer's filters
  std::vector<NamedArray> tensors;  // weights, biases, batch-norm γ, β and running statistics, by model name
  size_t output_level = 0;          // the layer whose output is the graph's output
  bool output_is_softmax = false;   // the graph's output is q(c|I), not the scores
  std::vector<std::string> notes;   // the exact rewrites made, for people
};

// Throws FileError naming `path` (and the node) on a file that is no ONNX model or a graph the
// engine cannot represent exactly.
ImportedNetwork import_onnx(const std::string& path, const OnnxImportOptions& options = {});

// Uploads the imported tensors into the model's parameters and buffers of the same names; the
// model must have been built from `network.spec`.
void load_imported_weights(DrmmModel& model, const ImportedNetwork& network);

}  // namespace drmm
