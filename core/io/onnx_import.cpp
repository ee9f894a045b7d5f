#include "core/io/onnx_import.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/io/onnx_tensor.h"
#include "core/model/drmm_model.h"
#include "core/util/error.h"

namespace drmm {
namespace {

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(dims[i]);
  }
  s += ']';
  return s;
}

int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (const int64_t d : dims) p *= d;
  return p;
}

// One pass over the graph's nodes in their (topological) order, following the single path from
// the image input to the output and building the layer stack as it goes.
class GraphImport {
 public:
  GraphImport(const std::string& path, const OnnxImportOptions& options) : path_(path), options_(options) {}

  ImportedNetwork run(const onnx::ModelProto& model) {
    const onnx::GraphProto& graph = model.graph();
    for (const onnx::OperatorSetIdProto& set : model.opset_import())
      if (set.domain().empty() || set.domain() == "ai.onnx") opset_ = int(set.version());
    for (const onnx::TensorProto& t : graph.initializer()) constants_[t.name()] = onnx_io::to_host(t, path_);
    for (const auto& [name, tensor] : options_.bound_inputs) constants_[name] = tensor;
    read_image_input(graph);
    path_tensors_.insert(current_);
    for (const onnx::NodeProto& node : graph.node()) {
      import_node(node);
      path_tensors_.insert(current_);
    }
    // Outputs along the path (the logits beside the softmax) are views the engine has anyway.
    bool end_is_output = false;
    for (const onnx::ValueInfoProto& output : graph.output()) {
      if (!path_tensors_.count(output.name()))
        throw FileError(path_, "the graph's output '" + output.name() + "' is not on the path from the input");
      end_is_output |= output.name() == current_;
    }
    if (!end_is_output) throw FileError(path_, "the end of the path from the input, '" + current_ + "', is no graph output");
    finish();
    return std::move(net_);
  }

 private:
  // ---- errors and attributes -----------------------------------------------------------------
  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& why) const {
    const std::string name = node.name().empty() ? "(unnamed)" : node.name();
    throw FileError(path_, "node '" + name + "' (" + node.op_type() + "): " + why);
  }
  const onnx::AttributeProto* attribute(const onnx::NodeProto& node, const std::string& name) const {
    for (const onnx::AttributeProto& a : node.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  int64_t int_attr(const onnx::NodeProto& node, const std::string& name, int64_t fallback) const {
    const auto* a = attribute(node, name);
    return a ? a->i() : fallback;
  }
  float float_attr(const onnx::NodeProto& node, const std::string& name, float fallback) const {
    const auto* a = attribute(node, name);
    return a ? a->f() : fallback;
  }
  std::vector<int64_t> ints_attr(const onnx::NodeProto& node, const std::string& name) const {
    const auto* a = attribute(node, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }
  std::string string_attr(const onnx::NodeProto& node, const std::string& name, const std::string& fallback) const {
    const auto* a = attribute(node, name);
    return a ? a->s() : fallback;
  }
  bool has_input(const onnx::NodeProto& node, int index) const {
    return node.input_size() > index && !node.input(index).empty();
  }
  const OnnxTensor& constant(const onnx::NodeProto& node, int index, const std::string& role) const {
    if (!has_input(node, index)) fail(node, "has no " + role + " input");
    const auto found = constants_.find(node.input(index));
    if (found == constants_.end())
      fail(node, "its " + role + " '" + node.input(index) + "' is not a constant (an initializer); the engine needs it at import");
    return found->second;
  }
  // One value per channel: dims [C], [1, C], [C, 1, 1] or [1, C, 1, 1].
  std::vector<float> per_channel(const onnx::NodeProto& node, int index, const std::string& role, int64_t channels) const {
    const OnnxTensor& t = constant(node, index, role);
    if (product(t.dims) != channels || std::count_if(t.dims.begin(), t.dims.end(), [](int64_t d) { return d != 1; }) > 1)
      fail(node, role + " has dimensions " + dims_text(t.dims) + ", expected one value for each of " +
                     std::to_string(channels) + " channels");
    return t.values;
  }
  void expect_data_input(const onnx::NodeProto& node) const {
    if (node.input_size() < 1 || node.input(0) != current_)
      fail(node, "does not take the output of the node before it; the importer follows one path from the image to the "
                 "scores (no branches, no skip connections)");
    if (finished_) fail(node, "follows the Softmax; the class posterior must be the network's output");
  }
  void advance(const onnx::NodeProto& node) {
    if (node.output_size() < 1) fail(node, "has no output");
    for (int i = 1; i < node.output_size(); ++i)
      if (!node.output(i).empty() && node.op_type() != "Dropout")
        fail(node, "has more than one output (" + node.output(i) + "); only the inference output is supported");
    current_ = node.output(0);
  }

  // ---- the input -----------------------------------------------------------------------------
  void read_image_input(const onnx::GraphProto& graph) {
    const onnx::ValueInfoProto* image = nullptr;
    for (const onnx::ValueInfoProto& input : graph.input()) {
      if (constants_.count(input.name())) continue;
      if (image)
        throw FileError(path_, "the graph has two inputs that are not constants ('" + image->name() + "' and '" +
                                   input.name() + "'); the engine takes one, the images");
      image = &input;
    }
    if (!image) throw FileError(path_, "the graph has no input for the images");
    const auto& type = image->type().tensor_type();
    if (type.elem_type() != onnx::TensorProto::FLOAT)
      throw FileError(path_, "input '" + image->name() + "' has ONNX data type " + std::to_string(type.elem_type()) +
                                 "; the engine takes float images");
    std::vector<int64_t> dims;
    for (const auto& d : type.shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    const bool known = std::all_of(dims.begin() + (dims.empty() ? 0 : 1), dims.end(), [](int64_t d) { return d > 0; });
    if (!known || (dims.size() != 4 && dims.size() != 2))
      throw FileError(path_, "input '" + image->name() + "' has dimensions " + dims_text(dims) +
                                 "; the engine takes N×C×H×W images (or N×K vectors) with C, H, W (K) given");
    // The engine's tensors are indexed in int per dimension; a map this large is no image.
    const int64_t values = product(std::vector<int64_t>(dims.begin() + 1, dims.end()));
    if (std::any_of(dims.begin() + 1, dims.end(), [](int64_t d) { return d > 65536; }) || values > (int64_t(1) << 26))
      throw FileError(path_, "input '" + image->name() + "' has dimensions " + dims_text(dims) + ": too large an image");
    net_.spec.channels = int(dims[1]);
    net_.spec.height = dims.size() == 4 ? int(dims[2]) : 1;
    net_.spec.width = dims.size() == 4 ? int(dims[3]) : 1;
    map_ = Shape{1, net_.spec.channels, net_.spec.height, net_.spec.width};
    flat_ = dims.size() == 2;
    current_ = image->name();
  }

  // ---- the layer stack -----------------------------------------------------------------------
  LayerSpec* last_layer() { return net_.spec.layers.empty() ? nullptr : &net_.spec.layers.back(); }
  LayerSpec* last_conv_without(bool LayerSpec::*flag) {
    LayerSpec* last = last_layer();
    return last && last->kind == LayerKind::Conv && !(last->*flag) ? last : nullptr;
  }
  void add_tensor(const std::string& name, Shape shape, std::vector<float> values) {
    net_.tensors.push_back(NamedArray{name, shape, std::move(values)});
  }
  std::vector<float>& tensor(const std::string& name) {
    for (NamedArray& a : net_.tensors)
      if (a.name == name) return a.values;
    throw Error("onnx import: no tensor " + name);
  }
  LayerSpec& add_conv(int filters, int in_channels, int kernel, ConvMode mode, std::vector<float> weights) {
    LayerSpec layer;
    layer.kind = LayerKind::Conv;
    layer.name = "conv" + std::to_string(++convs_);
    layer.filters = filters;
    layer.kernel = kernel;
    layer.mode = mode;
    layer.batchnorm = layer.relu = false;
    add_tensor(layer.name + ".weight", Shape{filters, in_channels, kernel, kernel}, std::move(weights));
    net_.spec.layers.push_back(layer);
    return net_.spec.layers.back();
  }
  void set_bias(LayerSpec& layer, const std::vector<float>& bias) {
    if (layer.bias) {
      std::vector<float>& b = tensor(layer.name + ".bias");
      for (size_t i = 0; i < b.size(); ++i) b[i] += bias[i];
      return;
    }
    layer.bias = true;
    add_tensor(layer.name + ".bias", Shape{1, layer.filters, 1, 1}, bias);
  }
  // A 1×1 conv with the identity matrix: where a node that the engine attaches to a conv
  // (BatchNormalization, Relu) follows none, or the scores need a class layer.
  LayerSpec& add_identity_conv(const std::string& why) {
    const int c = map_.c;
    std::vector<float> eye(size_t(c) * size_t(c), 0.0f);
    for (int i = 0; i < c; ++i) eye[size_t(i) * size_t(c) + size_t(i)] = 1.0f;
    LayerSpec& layer = add_conv(c, c, 1, ConvMode::Valid, std::move(eye));
    net_.notes.push_back(layer.name + ": an identity 1×1 conv, " + why);
    return layer;
  }

  // ---- nodes ---------------------------------------------------------------------------------
  void import_node(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx") fail(node, "is in the op domain '" + node.domain() + "'");
    if (op == "Constant") return import_constant(node);
    if (op == "Transpose" && has_input(node, 0) && constants_.count(node.input(0))) return transpose_constant(node);
    if (op == "Shape" && has_input(node, 0) && node.input(0) == current_) return shape_of_path(node);
    if ((op == "Gather" || op == "Unsqueeze" || op == "Concat") && all_inputs_constant(node)) return fold_shape_op(node);
    expect_data_input(node);
    if (op == "Conv") import_conv(node);
    else if (op == "BatchNormalization") import_batchnorm(node);
    else if (op == "Relu") import_relu(node);
    else if (op == "MaxPool") import_maxpool(node);
    else if (op == "AveragePool") import_average_pool(node);
    else if (op == "GlobalAveragePool") import_global_mean(node);
    else if (op == "ReduceMean") import_reduce_mean(node);
    else if (op == "Flatten") import_flatten(node);
    else if (op == "Reshape") import_reshape(node);
    else if (op == "Gemm") import_gemm(node);
    else if (op == "MatMul") import_matmul(node);
    else if (op == "Add") import_add(node);
    else if (op == "Softmax" || op == "LogSoftmax") import_softmax(node);
    else if (op == "Dropout" || op == "Identity") {}  // inference: the identity
    else
      fail(node, "is not supported; the importer takes Conv, BatchNormalization, Relu, MaxPool, AveragePool, "
                 "GlobalAveragePool, ReduceMean, Flatten, Reshape, Gemm, MatMul, Add, Softmax, LogSoftmax, Dropout "
                 "and Identity");
    advance(node);
  }

  void import_constant(const onnx::NodeProto& node) {
    const auto* value = attribute(node, "value");
    if (!value || !value->has_t() || node.output_size() != 1) fail(node, "is not a tensor constant");
    OnnxTensor t = onnx_io::to_host(value->t(), path_);
    constants_[node.output(0)] = std::move(t);
  }

  // A Transpose of a constant (older exporters transpose a Linear layer's weights so): folded.
  void transpose_constant(const onnx::NodeProto& node) {
    const OnnxTensor& in = constants_.at(node.input(0));
    const size_t rank = in.dims.size();
    std::vector<int64_t> perm = ints_attr(node, "perm");
    if (perm.empty())
      for (size_t i = 0; i < rank; ++i) perm.push_back(int64_t(rank - 1 - i));
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < rank; ++i)
      if (sorted.size() != rank || sorted[i] != int64_t(i)) fail(node, "perm " + dims_text(perm) + " is no permutation");
    std::vector<size_t> stride(rank, 1);
    for (size_t i = rank; i-- > 1;) stride[i - 1] = stride[i] * size_t(in.dims[i]);
    OnnxTensor out{node.output(0), {}, std::vector<float>(in.values.size())};
    for (const int64_t p : perm) out.dims.push_back(in.dims[size_t(p)]);
    std::vector<size_t> index(rank, 0);  // the output element's multi-index, row-major
    for (size_t j = 0; j < out.values.size(); ++j) {
      size_t from = 0;
      for (size_t a = 0; a < rank; ++a) from += index[a] * stride[size_t(perm[a])];
      out.values[j] = in.values[from];
      for (size_t a = rank; a-- > 0;)
        if (++index[a] < size_t(out.dims[a])) break;
        else index[a] = 0;
    }
    constants_[out.name] = std::move(out);
  }

  // ---- shape arithmetic (x.view(x.size(0), -1) exports Shape → Gather → Unsqueeze → Concat →
  // Reshape): folded into a constant, the unknown batch size a marker that Reshape accepts.
  static constexpr float kBatchDim = -1048576.0f;
  bool all_inputs_constant(const onnx::NodeProto& node) const {
    for (const std::string& in : node.input())
      if (!in.empty() && !constants_.count(in)) return false;
    return node.input_size() > 0;
  }
  void shape_of_path(const onnx::NodeProto& node) {
    OnnxTensor shape{node.output(0), {}, {}};
    shape.values = flat_ ? std::vector<float>{kBatchDim, float(map_.count())}
                         : std::vector<float>{kBatchDim, float(map_.c), float(map_.h), float(map_.w)};
    shape.dims = {int64_t(shape.values.size())};
    constants_[shape.name] = std::move(shape);
  }
  void fold_shape_op(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    OnnxTensor out{node.output(0), {}, {}};
    const OnnxTensor& first = constants_.at(node.input(0));
    if (op == "Gather") {
      if (first.dims.size() != 1 || int_attr(node, "axis", 0) != 0) fail(node, "gathers from a tensor that is no shape");
      const OnnxTensor& index = constants_.at(node.input(1));
      for (const float i : index.values) {
        const int64_t at = int64_t(i) < 0 ? int64_t(i) + int64_t(first.values.size()) : int64_t(i);
        if (at < 0 || at >= int64_t(first.values.size())) fail(node, "index " + std::to_string(int64_t(i)) + " is out of range");
        out.values.push_back(first.values[size_t(at)]);
      }
      out.dims = index.dims;
    } else if (op == "Unsqueeze") {  // only the dimensions change
      out.values = first.values;
      out.dims = first.dims;
      std::vector<int64_t> axes = ints_attr(node, "axes");
      if (has_input(node, 1)) axes.assign(constants_.at(node.input(1)).values.begin(), constants_.at(node.input(1)).values.end());
      for (size_t k = 0; k < axes.size(); ++k) out.dims.insert(out.dims.begin(), 1);
    } else {  // Concat of 1-D constants
      for (const std::string& in : node.input()) {
        const OnnxTensor& part = constants_.at(in);
        out.values.insert(out.values.end(), part.values.begin(), part.values.end());
      }
      out.dims = {int64_t(out.values.size())};
    }
    constants_[out.name] = std::move(out);
  }

  void expect_spatial(const onnx::NodeProto& node) const {
    if (flat_) fail(node, "runs on a flattened vector; the engine's convolutions and pools run on maps");
    if (averaged_) fail(node, "follows the global average pool; the engine's mean pool is its last layer");
  }

  void import_conv(const onnx::NodeProto& node) {
    const OnnxTensor& w = constant(node, 1, "weight");
    if (w.dims.size() != 4) fail(node, "weight has dimensions " + dims_text(w.dims) + "; 2-D convolutions only");
    if (const int64_t group = int_attr(node, "group", 1); group != 1)
      fail(node, "group " + std::to_string(group) + ": grouped (depthwise) convolutions are not supported");
    if (w.dims[1] != map_.c)
      fail(node, "weight takes " + std::to_string(w.dims[1]) + " channels, its input has " + std::to_string(map_.c));
    const int64_t k = w.dims[2];
    if (w.dims[3] != k) fail(node, "kernel " + std::to_string(k) + "×" + std::to_string(w.dims[3]) + ": the engine's kernels are square");
    for (const int64_t d : ints_attr(node, "dilations"))
      if (d != 1) fail(node, "dilations " + dims_text(ints_attr(node, "dilations")) + ": not supported");
    for (const int64_t s : ints_attr(node, "strides"))
      if (s != 1) fail(node, "strides " + dims_text(ints_attr(node, "strides")) + ": the engine convolves with stride 1");
    const int pad = symmetric_pad(node, int(k));
    ConvMode mode = ConvMode::Valid;
    if (pad == conv_padding(ConvMode::Valid, int(k))) mode = ConvMode::Valid;
    else if (pad == conv_padding(ConvMode::Half, int(k))) mode = ConvMode::Half;
    else if (pad == conv_padding(ConvMode::Full, int(k))) mode = ConvMode::Full;
    else
      fail(node, "pads " + std::to_string(pad) + ": the engine pads a " + std::to_string(k) + "×" + std::to_string(k) +
                     " conv by 0 (valid), " + std::to_string(k / 2) + " (half) or " + std::to_string(k - 1) + " (full)");
    if (flat_) fail(node, "runs on a flattened vector");
    // After a global average pool only a 1×1 conv without padding commutes with the mean pool
    // that the engine keeps last: mean(Γ ⋆ x) = Γ mean(x).
    if (averaged_ && (k != 1 || pad != 0)) fail(node, "a " + std::to_string(k) + "×" + std::to_string(k) +
                                                          " conv after the global average pool");
    LayerSpec& layer = add_conv(int(w.dims[0]), map_.c, int(k), mode, w.values);
    if (has_input(node, 2)) set_bias(layer, per_channel(node, 2, "bias", w.dims[0]));
    map_ = Shape{1, layer.filters, conv_output_size(map_.h, int(k), pad), conv_output_size(map_.w, int(k), pad)};
    if (map_.h < 1 || map_.w < 1) fail(node, "its output is smaller than 1×1");
  }

  // The one padding on every side that pads, strides 1 and auto_pad give a k×k conv.
  int symmetric_pad(const onnx::NodeProto& node, int k) const {
    const std::string auto_pad = string_attr(node, "auto_pad", "NOTSET");
    if (auto_pad == "VALID") return 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      if (k % 2 == 0) fail(node, "auto_pad " + auto_pad + " with an even kernel pads asymmetrically; not supported");
      return (k - 1) / 2;
    }
    if (auto_pad != "NOTSET") fail(node, "auto_pad " + auto_pad + " is not an ONNX value");
    const std::vector<int64_t> pads = ints_attr(node, "pads");
    if (pads.empty()) return 0;
    if (std::any_of(pads.begin(), pads.end(), [&](int64_t p) { return p != pads[0]; }))
      fail(node, "asymmetric pads " + dims_text(pads) + ": the engine pads every side alike");
    return int(pads[0]);
  }

  void import_batchnorm(const onnx::NodeProto& node) {
    if (int_attr(node, "training_mode", 0) != 0) fail(node, "training_mode 1: import a model exported for inference");
    for (int i = 1; i < node.output_size(); ++i)
      if (!node.output(i).empty()) fail(node, "has training outputs (running statistics); import a model exported for inference");
    if (flat_ && (map_.h != 1 || map_.w != 1)) fail(node, "normalises a flattened map element by element");
    const int64_t c = map_.c;
    std::vector<float> gamma = per_channel(node, 1, "scale", c), beta = per_channel(node, 2, "B", c);
    std::vector<float> mean = per_channel(node, 3, "mean", c), var = per_channel(node, 4, "var", c);
    const float eps = float_attr(node, "epsilon", 1e-5f);
    LayerSpec* conv = last_conv_without(&LayerSpec::batchnorm);
    if (!conv || conv->relu) conv = &add_identity_conv("for the BatchNormalization that follows no Conv directly");
    if (!have_bn_eps_) {
      net_.spec.bn_eps = eps;
      have_bn_eps_ = true;
    } else if (eps != net_.spec.bn_eps) {
      // The engine has one ε: var + ε' − ε under √(· + ε) is √(var + ε') exactly.
      for (float& v : var) v += eps - net_.spec.bn_eps;
      net_.notes.push_back(conv->name + ": batch-norm ε " + std::to_string(eps) + " folded into the running variance");
    }
    conv->batchnorm = true;
    const Shape channel{1, conv->filters, 1, 1};
    add_tensor(conv->name + ".gamma", channel, std::move(gamma));
    add_tensor(conv->name + ".beta", channel, std::move(beta));
    add_tensor(conv->name + ".running_mean", channel, std::move(mean));
    add_tensor(conv->name + ".running_var", channel, std::move(var));
  }

  void import_relu(const onnx::NodeProto& node) {
    if (averaged_) fail(node, "follows the global average pool: ReLU does not commute with the mean pool that the engine keeps last");
    LayerSpec* last = last_layer();
    std::vector<LayerSpec>& layers = net_.spec.layers;
    if (last && last->kind == LayerKind::Conv) {
      if (last->relu) net_.notes.push_back(last->name + ": a second ReLU, the identity, dropped");
      last->relu = true;
      return;
    }
    // relu(maxpool(h)) = maxpool(relu(h)): the max commutes with the monotone ReLU.
    if (last && last->kind == LayerKind::MaxPool && layers.size() >= 2 && layers[layers.size() - 2].kind == LayerKind::Conv) {
      LayerSpec& conv = layers[layers.size() - 2];
      if (!conv.relu) net_.notes.push_back(last->name + ": the ReLU after it moved before it (max and ReLU commute)");
      conv.relu = true;
      return;
    }
    add_identity_conv("for the Relu that follows no Conv").relu = true;
  }

  void import_maxpool(const onnx::NodeProto& node) {
    expect_spatial(node);
    const std::vector<int64_t> kernel = ints_attr(node, "kernel_shape");
    if (kernel.size() != 2 || kernel[0] != kernel[1])
      fail(node, "kernel_shape " + dims_text(kernel) + ": the engine's pools are square 2-D windows");
    const int k = int(kernel[0]);
    std::vector<int64_t> strides = ints_attr(node, "strides");
    if (strides.empty()) strides = {1, 1};
    if (k > 1 && (strides.size() != 2 || strides[0] != k || strides[1] != k))
      fail(node, "strides " + dims_text(strides) + " with a " + std::to_string(k) + "×" + std::to_string(k) +
                     " window: the engine's pools tile the map (stride = window, paper 002)");
    for (const int64_t p : ints_attr(node, "pads"))
      if (p != 0) fail(node, "pads " + dims_text(ints_attr(node, "pads")) + ": the engine's pools do not pad");
    for (const int64_t d : ints_attr(node, "dilations"))
      if (d != 1) fail(node, "dilations " + dims_text(ints_attr(node, "dilations")) + ": not supported");
    if (node.output_size() > 1 && !node.output(1).empty()) fail(node, "has an Indices output; not supported");
    if (map_.h % k || map_.w % k)
      fail(node, "a " + std::to_string(k) + "×" + std::to_string(k) + " pool does not tile the " + std::to_string(map_.h) +
                     "×" + std::to_string(map_.w) + " map (the engine's pools drop no rows or columns)");
    LayerSpec layer;
    layer.kind = LayerKind::MaxPool;
    layer.name = "pool" + std::to_string(++pools_);
    layer.kernel = k;
    net_.spec.layers.push_back(layer);
    map_ = Shape{1, map_.c, map_.h / k, map_.w / k};
  }

  void import_average_pool(const onnx::NodeProto& node) {
    const std::vector<int64_t> kernel = ints_attr(node, "kernel_shape");
    const bool global = kernel.size() == 2 && kernel[0] == map_.h && kernel[1] == map_.w;
    for (const int64_t p : ints_attr(node, "pads"))
      if (p != 0) fail(node, "pads " + dims_text(ints_attr(node, "pads")) + ": not supported");
    if (!global)
      fail(node, "kernel_shape " + dims_text(kernel) + " on a " + std::to_string(map_.h) + "×" + std::to_string(map_.w) +
                     " map: the engine's only average pool is the global mean over the map (the class scores)");
    import_global_mean(node);
  }

  void import_global_mean(const onnx::NodeProto& node) {
    if (flat_) fail(node, "runs on a flattened vector");
    if (map_.h == 1 && map_.w == 1) return;  // the mean of one value
    if (averaged_) fail(node, "a second global average pool");
    averaged_ = true;
    map_ = Shape{1, map_.c, 1, 1};
  }

  void import_reduce_mean(const onnx::NodeProto& node) {
    std::vector<int64_t> axes = ints_attr(node, "axes");
    if (has_input(node, 1)) {
      const OnnxTensor& t = constant(node, 1, "axes");
      axes.assign(t.values.begin(), t.values.end());
    }
    for (int64_t& a : axes) a = a < 0 ? a + 4 : a;
    std::sort(axes.begin(), axes.end());
    if (flat_ || axes != std::vector<int64_t>{2, 3})
      fail(node, "axes " + dims_text(axes) + ": only the mean over H and W (axes 2, 3) of an N×C×H×W map is supported");
    import_global_mean(node);
    if (int_attr(node, "keepdims", 1) == 0) flat_ = true;
  }

  void import_flatten(const onnx::NodeProto& node) {
    const int64_t axis = int_attr(node, "axis", 1);
    if (axis != 1 && !(axis == -3 && !flat_)) fail(node, "axis " + std::to_string(axis) + ": only a flatten to N×(C·H·W) (axis 1)");
    flat_ = true;
  }

  void import_reshape(const onnx::NodeProto& node) {
    const OnnxTensor& shape = constant(node, 1, "shape");
    const float features = float(map_.count());
    // [N or −1 or 0 (keep) or the batch marker, C·H·W or −1]: each image to a vector.
    const auto batch_like = [&](float v) { return v == kBatchDim || v == 0 || v == -1; };
    const bool to_vector = shape.values.size() == 2 &&
                           ((shape.values[1] == features && batch_like(shape.values[0])) ||
                            (shape.values[1] == -1 && (shape.values[0] == kBatchDim || shape.values[0] == 0)));
    if (!to_vector)
      fail(node, "shape " + dims_text(std::vector<int64_t>(shape.values.begin(), shape.values.end())) +
                     ": only a reshape of each image to a vector of its " + std::to_string(map_.count()) + " values");
    flat_ = true;
  }

  // Y = alpha·A·B' + beta·C on a flattened C×H×W map is a conv whose H×W kernel covers the map
  // (flatten orders (c, h, w) as the weights of a conv do); after the global mean, a 1×1 conv.
  void linear_layer(const onnx::NodeProto& node, std::vector<float> weights, int64_t outputs, int64_t inputs) {
    if (!flat_ && (map_.h != 1 || map_.w != 1)) fail(node, "takes an N×C×H×W map; flatten it first");
    if (inputs != int64_t(map_.count()))
      fail(node, "takes " + std::to_string(inputs) + " values, its input has " + std::to_string(map_.count()));
    const int kernel = averaged_ ? 1 : map_.h;
    if (map_.h != map_.w) fail(node, "runs on a flattened " + std::to_string(map_.h) + "×" + std::to_string(map_.w) +
                                         " map: the engine's kernels are square");
    add_conv(int(outputs), map_.c, kernel, ConvMode::Valid, std::move(weights));
    map_ = Shape{1, int(outputs), 1, 1};
  }

  void import_gemm(const onnx::NodeProto& node) {
    if (int_attr(node, "transA", 0) != 0) fail(node, "transA 1: the images must be the rows of A");
    const OnnxTensor& b = constant(node, 1, "B");
    if (b.dims.size() != 2) fail(node, "B has dimensions " + dims_text(b.dims));
    const bool trans_b = int_attr(node, "transB", 0) != 0;
    const int64_t k = trans_b ? b.dims[1] : b.dims[0], m = trans_b ? b.dims[0] : b.dims[1];
    const float alpha = float_attr(node, "alpha", 1.0f), beta = float_attr(node, "beta", 1.0f);
    std::vector<float> weights(size_t(m * k));
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < k; ++i)
        weights[size_t(o * k + i)] = alpha * b.values[size_t(trans_b ? o * k + i : i * m + o)];
    linear_layer(node, std::move(weights), m, k);
    if (has_input(node, 2) && beta != 0.0f) {
      const OnnxTensor& c = constant(node, 2, "C");
      std::vector<float> bias(static_cast<size_t>(m));
      if (product(c.dims) == 1) std::fill(bias.begin(), bias.end(), c.values.at(0));
      else if (product(c.dims) == m && (c.dims.size() == 1 || (c.dims.size() == 2 && c.dims[0] == 1))) bias = c.values;
      else fail(node, "C has dimensions " + dims_text(c.dims) + "; a bias is one value per output or one for all");
      for (float& v : bias) v *= beta;
      set_bias(net_.spec.layers.back(), bias);
    }
  }

  void import_matmul(const onnx::NodeProto& node) {
    const OnnxTensor& b = constant(node, 1, "B");
    if (b.dims.size() != 2) fail(node, "B has dimensions " + dims_text(b.dims) + "; a matrix product with a 2-D constant only");
    const int64_t k = b.dims[0], m = b.dims[1];
    std::vector<float> weights(size_t(m * k));
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < k; ++i) weights[size_t(o * k + i)] = b.values[size_t(i * m + o)];
    linear_layer(node, std::move(weights), m, k);
  }

  void import_add(const onnx::NodeProto& node) {
    LayerSpec* conv = last_conv_without(&LayerSpec::batchnorm);
    if (!conv || conv->relu) fail(node, "adds to something that is no conv, Gemm or MatMul output; only a bias is supported");
    set_bias(*conv, per_channel(node, 1, "addend", conv->filters));
  }

  void import_softmax(const onnx::NodeProto& node) {
    const int64_t axis = int_attr(node, "axis", opset_ >= 13 ? -1 : 1);
    const bool scores = map_.h == 1 && map_.w == 1 && (axis == 1 || (axis == -1 && flat_));
    if (!scores) fail(node, "axis " + std::to_string(axis) + ": only the softmax over the class scores of each image");
    net_.output_is_softmax = node.op_type() == "Softmax";
    finished_ = true;
  }

  // ---- the class layer and the mean pool -----------------------------------------------------
  void finish() {
    std::vector<LayerSpec>& layers = net_.spec.layers;
    const bool scores = map_.h == 1 && map_.w == 1;
    if (!options_.any_output && !scores)
      throw FileError(path_, "the graph's output is " + std::to_string(map_.c) + "×" + std::to_string(map_.h) + "×" +
                                 std::to_string(map_.w) + " per image, not one score per class (end the network with "
                                 "GlobalAveragePool, or Flatten and Gemm)");
    if (layers.empty() || layers.back().kind != LayerKind::Conv) add_identity_conv("the class layer");
    net_.output_level = layers.size() - 1;
    LayerSpec mean;
    mean.kind = LayerKind::MeanPool;
    mean.name = "meanpool";
    layers.push_back(mean);
    if (averaged_) net_.output_level = layers.size() - 1;
    net_.spec.classes = layers[layers.size() - 2].filters;
    net_.spec.name = std::filesystem::path(path_).stem().string();
    net_.spec.description = "imported from " + std::filesystem::path(path_).filename().string();
    try {
      net_.spec.resolve_shapes();
    } catch (const Error& e) {
      throw FileError(path_, e.what());
    }
  }

  const std::string& path_;
  const OnnxImportOptions& options_;
  int opset_ = 13;
  std::map<std::string, OnnxTensor> constants_;
  ImportedNetwork net_;
  std::string current_;   // the tensor at the end of the path so far
  std::set<std::string> path_tensors_;  // every tensor on the path
  Shape map_;             // its per-image shape, as the ONNX graph sees it
  bool flat_ = false;     // flattened to N×(C·H·W)
  bool averaged_ = false; // a global average pool was applied (the engine's mean pool, kept last)
  bool finished_ = false; // a Softmax ended the path
  bool have_bn_eps_ = false;
  int convs_ = 0, pools_ = 0;
};

}  // namespace

ImportedNetwork import_onnx(const std::string& path, const OnnxImportOptions& options) {
  onnx::ModelProto model;
  onnx_io::parse_file(path, model, "ONNX model");
  if (!model.has_graph()) throw FileError(path, "not an ONNX model (no graph)");
  return GraphImport(path, options).run(model);
}

void load_imported_weights(DrmmModel& model, const ImportedNetwork& network) {
  Backend& backend = model.backend();
  auto upload = [&](const std::string& name, Tensor& t) {
    for (const NamedArray& a : network.tensors)
      if (a.name == name) {
        if (a.shape != t.shape()) throw Error("imported tensor " + name + " is " + a.shape.str() + ", the model's " + t.shape().str());
        backend.upload(t, a.values);
        return true;
      }
    return false;
  };
  for (Parameter& p : model.parameters())
    if (!upload(p.name, p.value)) throw Error("the imported network has no values for " + p.name);
  for (Buffer& b : model.buffers()) upload(b.name, b.value);  // π is measured afterwards
}

}  // namespace drmm
