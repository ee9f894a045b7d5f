#pragma once
// ONNX protobuf messages to and from the engine's host values (inside core/io only: the headers
// that name protobuf types are not part of the library's interface).
#include <string>
#include <vector>

#include "core/io/onnx_import.h"
#include "onnx/onnx_pb.h"

namespace drmm::onnx_io {

// `proto` as float values (FLOAT, DOUBLE, INT32 and INT64 data, inline or raw); throws FileError
// naming `path` for other types or data stored outside the file.
OnnxTensor to_host(const onnx::TensorProto& proto, const std::string& path);
// A FLOAT initializer holding `values` with dimensions `dims`.
void to_proto(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values,
              onnx::TensorProto& proto);
// Parses the whole of `path` into `message`; throws FileError naming it when that fails.
void parse_file(const std::string& path, google::protobuf::MessageLite& message, const char* what);

}  // namespace drmm::onnx_io
