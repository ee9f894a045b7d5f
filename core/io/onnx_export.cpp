#include "core/io/onnx_export.h"

#include <filesystem>
#include <fstream>

#include "core/io/onnx_tensor.h"
#include "core/model/drmm_model.h"
#include "core/util/error.h"

namespace drmm {
namespace {

class GraphExport {
 public:
  GraphExport(DrmmModel& model, onnx::GraphProto& graph) : model_(model), graph_(graph) {}

  void run() {
    const ModelSpec& spec = model_.spec();
    graph_.set_name(spec.name);
    value_info(graph_.add_input(), "images", {-1, spec.channels, spec.height, spec.width});
    std::string x = "images";
    for (const LayerSpec& layer : spec.layers) {
      switch (layer.kind) {
        case LayerKind::Conv: x = conv(layer, x); break;
        case LayerKind::MaxPool: {
          onnx::NodeProto& n = node("MaxPool", layer.name, {x});
          ints(n, "kernel_shape", {layer.kernel, layer.kernel});
          ints(n, "strides", {layer.kernel, layer.kernel});
          x = n.output(0);
          break;
        }
        case LayerKind::MeanPool: x = node("GlobalAveragePool", layer.name, {x}).output(0); break;
      }
    }
    onnx::NodeProto& flatten = node("Flatten", "logits", {x});
    flatten.set_output(0, "logits");
    onnx::NodeProto& softmax = node("Softmax", "probabilities", {"logits"});
    softmax.set_output(0, "probabilities");
    integer(softmax, "axis", 1);
    value_info(graph_.add_output(), "logits", {-1, spec.classes});
    value_info(graph_.add_output(), "probabilities", {-1, spec.classes});
  }

 private:
  onnx::NodeProto& node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(op);
    n.set_name(name + "/" + op);
    for (const std::string& in : inputs) n.add_input(in);
    n.add_output(name + "/" + op + ":0");
    return n;
  }
  static void ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& values) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (const int64_t v : values) a.add_ints(v);
  }
  static void integer(onnx::NodeProto& n, const std::string& name, int64_t value) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(value);
  }
  static void value_info(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>& dims) {
    info->set_name(name);
    auto* type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (const int64_t d : dims) {
      auto* dim = type->mutable_shape()->add_dim();
      if (d < 0) dim->set_dim_param("batch");
      else dim->set_dim_value(d);
    }
  }
  // The model's tensor `name` as an initializer with ONNX dimensions `dims`.
  std::string initializer(const std::string& name, const std::vector<int64_t>& dims) {
    for (Parameter& p : model_.parameters())
      if (p.name == name) return add_initializer(name, dims, model_.backend().download(p.value));
    for (Buffer& b : model_.buffers())
      if (b.name == name) return add_initializer(name, dims, model_.backend().download(b.value));
    throw Error("export: the model has no tensor " + name);
  }
  std::string add_initializer(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values) {
    onnx_io::to_proto(name, dims, values, *graph_.add_initializer());
    return name;
  }

  std::string conv(const LayerSpec& layer, const std::string& x) {
    const int64_t f = layer.filters, k = layer.kernel, pad = conv_padding(layer.mode, layer.kernel);
    std::vector<std::string> inputs{x, initializer(layer.name + ".weight", {f, layer.input.c, k, k})};
    if (layer.bias) inputs.push_back(initializer(layer.name + ".bias", {f}));
    onnx::NodeProto& c = node("Conv", layer.name, inputs);
    ints(c, "kernel_shape", {k, k});
    ints(c, "pads", {pad, pad, pad, pad});
    ints(c, "strides", {1, 1});
    std::string out = c.output(0);
    if (layer.batchnorm) {
      onnx::NodeProto& bn = node("BatchNormalization", layer.name,
                                 {out, initializer(layer.name + ".gamma", {f}), initializer(layer.name + ".beta", {f}),
                                  initializer(layer.name + ".running_mean", {f}),
                                  initializer(layer.name + ".running_var", {f})});
      onnx::AttributeProto& eps = *bn.add_attribute();
      eps.set_name("epsilon");
      eps.set_type(onnx::AttributeProto::FLOAT);
      eps.set_f(model_.spec().bn_eps);
      out = bn.output(0);
    }
    if (layer.relu) out = node("Relu", layer.name, {out}).output(0);
    return out;
  }

  DrmmModel& model_;
  onnx::GraphProto& graph_;
};

}  // namespace

void export_onnx(DrmmModel& model, const std::string& path) {
  // The min branch would be a second graph of negated ReLUs and pools: not written, so refused
  // rather than exported as a network that predicts differently.
  if (model.spec().max_min)
    throw FileError(path, "a Max-Min network (NRM) cannot be exported to ONNX: only its max branch would be written");
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("drmm-studio");
  proto.set_model_version(1);
  proto.set_doc_string(model.spec().description);
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOnnxExportOpset);
  GraphExport(model, *proto.mutable_graph()).run();
  // Written next to the destination and renamed over it: a failed export leaves no half file.
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out || !proto.SerializeToOstream(&out) || !out.flush()) {
      std::error_code ec;
      std::filesystem::remove(partial, ec);
      throw FileError(path, "cannot write it");
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) throw FileError(path, "cannot write it: " + ec.message());
}

}  // namespace drmm
