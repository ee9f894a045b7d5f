#include "core/io/onnx_tensor.h"

#include <cstring>
#include <fstream>

#include "core/util/error.h"
#include "core/util/regular_file.h"

namespace drmm::onnx_io {
namespace {

// ONNX stores raw_data little-endian, as this machine does.
template <class T>
std::vector<float> from_raw(const std::string& raw, size_t count, const std::string& path, const std::string& name) {
  if (raw.size() != count * sizeof(T))
    throw FileError(path, "tensor '" + name + "' holds " + std::to_string(raw.size()) + " bytes of data for " +
                              std::to_string(count) + " values");
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    values[i] = float(v);
  }
  return values;
}

template <class Field>
std::vector<float> from_field(const Field& field, size_t count, const std::string& path, const std::string& name) {
  if (size_t(field.size()) != count)
    throw FileError(path, "tensor '" + name + "' holds " + std::to_string(field.size()) + " values, its dimensions " +
                              std::to_string(count));
  return std::vector<float>(field.begin(), field.end());
}

}  // namespace

OnnxTensor to_host(const onnx::TensorProto& proto, const std::string& path) {
  OnnxTensor t;
  t.name = proto.name();
  size_t count = 1;
  for (const int64_t d : proto.dims()) {
    if (d < 0 || d > (int64_t(1) << 32)) throw FileError(path, "tensor '" + t.name + "' has a dimension of " + std::to_string(d));
    t.dims.push_back(d);
    count *= size_t(d);
    if (count > (size_t(1) << 34)) throw FileError(path, "tensor '" + t.name + "' is too large (over 2^34 values)");
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw FileError(path, "tensor '" + t.name + "' keeps its data in an external file; save the model with its weights inside");
  const bool raw = proto.has_raw_data();
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      t.values = raw ? from_raw<float>(proto.raw_data(), count, path, t.name) : from_field(proto.float_data(), count, path, t.name);
      break;
    case onnx::TensorProto::DOUBLE:
      t.values = raw ? from_raw<double>(proto.raw_data(), count, path, t.name) : from_field(proto.double_data(), count, path, t.name);
      break;
    case onnx::TensorProto::INT64:
      t.values = raw ? from_raw<int64_t>(proto.raw_data(), count, path, t.name) : from_field(proto.int64_data(), count, path, t.name);
      break;
    case onnx::TensorProto::INT32:
      t.values = raw ? from_raw<int32_t>(proto.raw_data(), count, path, t.name) : from_field(proto.int32_data(), count, path, t.name);
      break;
    default:
      throw FileError(path, "tensor '" + t.name + "' has ONNX data type " + std::to_string(proto.data_type()) +
                                "; the engine computes in float32 (FLOAT, DOUBLE, INT32 and INT64 tensors are read)");
  }
  return t;
}

void to_proto(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values,
              onnx::TensorProto& proto) {
  proto.set_name(name);
  proto.set_data_type(onnx::TensorProto::FLOAT);
  for (const int64_t d : dims) proto.add_dims(d);
  proto.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

void parse_file(const std::string& path, google::protobuf::MessageLite& message, const char* what) {
  regular_file_size(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path, "cannot open it");
  if (!message.ParseFromIstream(&in)) throw FileError(path, std::string("not a valid ") + what + " (protobuf parse failed)");
}

}  // namespace drmm::onnx_io

namespace drmm {

OnnxTensor read_onnx_tensor(const std::string& path) {
  onnx::TensorProto proto;
  onnx_io::parse_file(path, proto, "ONNX tensor");
  return onnx_io::to_host(proto, path);
}

}  // namespace drmm
