#include "core/model/model_spec.h"

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "core/util/regular_file.h"

namespace drmm {
namespace {

using nlohmann::json;

LayerKind parse_kind(const std::string& type, const std::string& source) {
  if (type == "conv") return LayerKind::Conv;
  if (type == "maxpool") return LayerKind::MaxPool;
  if (type == "meanpool") return LayerKind::MeanPool;
  throw FileError(source, "unknown layer type '" + type + "' (expected conv, maxpool or meanpool)");
}

std::string kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Conv: return "conv";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::MeanPool: return "meanpool";
  }
  return "?";
}

LayerSpec layer_from_json(const json& j, size_t index, const std::string& source) {
  LayerSpec layer;
  layer.kind = parse_kind(j.at("type").get<std::string>(), source);
  layer.name = j.value("name", kind_name(layer.kind) + std::to_string(index + 1));
  if (layer.kind == LayerKind::Conv) {
    layer.filters = j.at("filters").get<int>();
    layer.kernel = j.at("kernel").get<int>();
    layer.mode = parse_conv_mode(j.value("mode", std::string("valid")));
    layer.batchnorm = j.value("batchnorm", true);
    layer.relu = j.value("relu", true);
    layer.bias = j.value("bias", false);
    if (layer.filters < 1 || layer.kernel < 1)
      throw FileError(source, "layer " + layer.name + ": filters and kernel must be at least 1");
  } else if (layer.kind == LayerKind::MaxPool) {
    layer.kernel = j.value("size", 2);
    if (layer.kernel < 1) throw FileError(source, "layer " + layer.name + ": pool size must be at least 1");
  }
  return layer;
}

json layer_to_json(const LayerSpec& layer) {
  json j{{"type", kind_name(layer.kind)}, {"name", layer.name}};
  if (layer.kind == LayerKind::Conv) {
    j["filters"] = layer.filters;
    j["kernel"] = layer.kernel;
    j["mode"] = conv_mode_name(layer.mode);
    j["batchnorm"] = layer.batchnorm;
    j["relu"] = layer.relu;
    if (layer.bias) j["bias"] = true;  // bias-free files stay as they were
  } else if (layer.kind == LayerKind::MaxPool) {
    j["size"] = layer.kernel;
  }
  return j;
}

Shape output_shape(const LayerSpec& layer, Shape in) {
  switch (layer.kind) {
    case LayerKind::Conv: {
      const int pad = conv_padding(layer.mode, layer.kernel);
      return Shape{1, layer.filters, conv_output_size(in.h, layer.kernel, pad),
                   conv_output_size(in.w, layer.kernel, pad)};
    }
    case LayerKind::MaxPool: return Shape{1, in.c, in.h / layer.kernel, in.w / layer.kernel};
    case LayerKind::MeanPool: return Shape{1, in.c, 1, 1};
  }
  return in;
}

}  // namespace

std::string LayerSpec::describe() const {
  switch (kind) {
    case LayerKind::Conv:
      return name + " " + std::to_string(filters) + "×" + std::to_string(kernel) + "×" +
             std::to_string(kernel) + " " + conv_mode_name(mode) + (bias ? " +bias" : "");
    case LayerKind::MaxPool: return name + " max " + std::to_string(kernel) + "×" + std::to_string(kernel);
    case LayerKind::MeanPool: return name + " mean " + std::to_string(input.h) + "×" + std::to_string(input.w);
  }
  return name;
}

std::vector<std::string> ModelSpec::level_names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i + 1 < layers.size(); ++i) names.push_back(layers[i].name);
  return names;
}

void ModelSpec::check_structure() const {
  if (layers.empty() || layers.back().kind != LayerKind::MeanPool)
    throw Error("model '" + name + "': the last layer must be a meanpool (the class scores, Table 6)");
  if (layers.size() < 2 || layers[layers.size() - 2].kind != LayerKind::Conv)
    throw Error("model '" + name + "': the layer before the meanpool must be a conv, the class layer (one filter per class)");
  for (size_t i = 0; i < layers.size(); ++i) {
    // Parameters and checkpoint tensors are keyed by layer name: two layers of one name would
    // both load the first one's weights.
    for (size_t j = 0; j < i; ++j)
      if (layers[j].name == layers[i].name)
        throw Error("model '" + name + "': two layers are named '" + layers[i].name + "' (layers " +
                    std::to_string(j + 1) + " and " + std::to_string(i + 1) + "); layer names must be unique");
    if (layers[i].kind == LayerKind::MeanPool && i + 1 != layers.size())
      throw Error("model '" + name + "': meanpool must be the last layer");
  }
}

void ModelSpec::resolve_shapes() {
  check_structure();
  Shape shape{1, channels, height, width};
  for (LayerSpec& layer : layers) {
    if (layer.kind == LayerKind::MaxPool && (shape.h % layer.kernel || shape.w % layer.kernel))
      throw Error("model '" + name + "', layer " + layer.name + ": pool size " + std::to_string(layer.kernel) +
                  " does not divide its input " + std::to_string(shape.h) + "×" + std::to_string(shape.w));
    layer.input = shape;
    shape = layer.output = output_shape(layer, shape);
    if (shape.h < 1 || shape.w < 1)
      throw Error("model '" + name + "', layer " + layer.name + ": the image shrinks below 1×1");
  }
  if (shape.c != classes)
    throw Error("model '" + name + "': the class layer has " + std::to_string(shape.c) + " channels but the model has " +
                std::to_string(classes) + " classes");
}

ModelSpec ModelSpec::fitted_to(int image_channels, int image_height, int image_width, int class_count) const {
  ModelSpec fitted = *this;
  fitted.channels = image_channels;
  fitted.height = image_height;
  fitted.width = image_width;
  fitted.classes = class_count;
  try {
    fitted.check_structure();
    fitted.layers[fitted.layers.size() - 2].filters = class_count;
    fitted.resolve_shapes();
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (on " + std::to_string(image_channels) + "×" + std::to_string(image_height) +
                "×" + std::to_string(image_width) + " images with " + std::to_string(class_count) + " classes)");
  }
  return fitted;
}

ModelSpec ModelSpec::with_nrm(bool biases, bool with_max_min) const {
  ModelSpec spec = *this;
  for (LayerSpec& layer : spec.layers)
    if (biases && layer.kind == LayerKind::Conv && layer.relu) layer.bias = true;
  spec.max_min = spec.max_min || with_max_min;
  return spec;
}

bool ModelSpec::has_rendering_prior() const {
  return std::any_of(layers.begin(), layers.end(),
                     [](const LayerSpec& l) { return l.kind == LayerKind::Conv && l.bias && l.relu; });
}

json ModelSpec::to_json() const {
  json layer_list = json::array();
  for (const LayerSpec& layer : layers) layer_list.push_back(layer_to_json(layer));
  return json{{"name", name},
              {"description", description},
              {"input", {{"channels", channels}, {"height", height}, {"width", width}}},
              {"classes", classes},
              {"layers", layer_list},
              {"loss_weights", {{"h", alpha.h}, {"rc", alpha.rc}, {"kl", alpha.kl}, {"nn", alpha.nn}, {"rpn", alpha.rpn}}},
              {"max_min", max_min},
              {"optimizer",
               {{"type", optimizer.type},
                {"lr_start", optimizer.lr_start},
                {"lr_end", optimizer.lr_end},
                {"momentum", optimizer.momentum}}},
              {"batchnorm", {{"momentum", bn_momentum}, {"eps", bn_eps}, {"render_scale", bn_render_scale}}}};
}

ModelSpec ModelSpec::from_json(const json& j, const std::string& source) {
  ModelSpec spec;
  try {
    spec.name = j.value("name", std::filesystem::path(source).stem().string());
    spec.description = j.value("description", std::string());
    if (j.contains("input")) {
      const json& input = j.at("input");
      spec.channels = input.at("channels").get<int>();
      spec.height = input.at("height").get<int>();
      spec.width = input.at("width").get<int>();
    }
    const json& layers = j.at("layers");
    for (size_t i = 0; i < layers.size(); ++i) spec.layers.push_back(layer_from_json(layers[i], i, source));
    // Without "classes", the class layer's filter count says how many it was made for.
    const bool class_layer = spec.layers.size() >= 2 && spec.layers[spec.layers.size() - 2].kind == LayerKind::Conv;
    spec.classes = j.value("classes", class_layer ? spec.layers[spec.layers.size() - 2].filters : spec.classes);
    if (j.contains("loss_weights")) {
      const json& a = j["loss_weights"];
      spec.alpha = LossWeights{a.value("h", 1.0f), a.value("rc", 0.2f), a.value("kl", 1.0f), a.value("nn", 1.0f),
                               a.value("rpn", 0.0f)};
    }
    spec.max_min = j.value("max_min", false);
    if (j.contains("optimizer")) {
      const json& o = j["optimizer"];
      spec.optimizer.type = o.value("type", spec.optimizer.type);
      spec.optimizer.lr_start = o.value("lr_start", spec.optimizer.lr_start);
      spec.optimizer.lr_end = o.value("lr_end", spec.optimizer.lr_end);
      spec.optimizer.momentum = o.value("momentum", spec.optimizer.momentum);
    }
    if (j.contains("batchnorm")) {
      spec.bn_momentum = j["batchnorm"].value("momentum", spec.bn_momentum);
      spec.bn_eps = j["batchnorm"].value("eps", spec.bn_eps);
      spec.bn_render_scale = j["batchnorm"].value("render_scale", spec.bn_render_scale);
    }
  } catch (const json::exception& e) {
    throw FileError(source, std::string("invalid model preset: ") + e.what());
  }
  if (spec.optimizer.type != "sgd" && spec.optimizer.type != "adam")
    throw FileError(source, "optimizer type must be sgd or adam, not '" + spec.optimizer.type + "'");
  if (spec.channels < 1 || spec.height < 1 || spec.width < 1 || spec.classes < 2)
    throw FileError(source, "input size must be positive and classes at least 2");
  try {
    // Without "input" the defaults stand in until a dataset fits the stack (fitted_to), so a
    // stack made for other images is not refused here: only its structure is checked now.
    if (j.contains("input")) spec.resolve_shapes();
    else spec.check_structure();
  } catch (const Error& e) {
    throw FileError(source, e.what());
  }
  return spec;
}

// $DRMM_ASSETS_DIR; installed (the .deb), the share folder beside the binaries' folder
// (/usr/bin/drmm → /usr/share/drmm-studio); else the source tree the build was made from.
std::string presets_dir() {
  if (const char* dir = std::getenv("DRMM_ASSETS_DIR")) return std::string(dir) + "/presets";
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path().parent_path() / "share/drmm-studio/presets";
    if (std::filesystem::is_directory(installed, ec)) return installed.string();
  }
  return std::string(DRMM_ASSETS_DIR) + "/presets";
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(presets_dir(), ec))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<PresetFit> preset_fits(int channels, int height, int width, int classes) {
  std::vector<PresetFit> fits;
  for (const std::string& name : preset_names()) {
    PresetFit fit{name, {}};
    try {
      load_model_spec(name).fitted_to(channels, height, width, classes);
    } catch (const Error& e) {
      fit.problem = e.what();
    }
    fits.push_back(std::move(fit));
  }
  return fits;
}

ModelSpec load_model_spec(const std::string& name_or_path) {
  const bool is_path = name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".json");
  const std::string path = is_path ? name_or_path : presets_dir() + "/" + name_or_path + ".json";
  if (is_path) regular_file_size(path);  // refuses folders, FIFOs and devices by name before opening
  std::ifstream in(path);
  if (!in) {
    if (is_path) throw FileError(path, "cannot open model preset");
    std::string known;
    for (const std::string& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown model preset '" + name_or_path + "' (known: " + known + ")");
  }
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw FileError(path, std::string("not valid JSON: ") + e.what());
  }
  return ModelSpec::from_json(j, path);
}

}  // namespace drmm
