#pragma once
// Checkpoint files: a versioned binary format with a JSON header and a checksum, written
// atomically (temporary file, fsync, rename) so that a crash or a closed window never leaves
// a half-written checkpoint under the real name.
//
// Layout (little-endian):
//   8 bytes  magic "DRMMCKPT"
//   u32      format version (kCheckpointVersion)
//   u32      header length H
//   H bytes  JSON header: {"meta": {...}, "tensors": [{"name": s, "shape": [n,c,h,w]}, ...]}
//   float32  each tensor's values, in header order
//   u32      CRC-32 (zlib) of every byte before it
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/backend/tensor.h"

namespace drmm {

inline constexpr uint32_t kCheckpointVersion = 1;

struct NamedArray {
  std::string name;
  Shape shape;
  std::vector<float> values;
};

struct CheckpointContents {
  nlohmann::json meta;
  std::vector<NamedArray> arrays;
  const NamedArray& find(const std::string& name, const std::string& path) const;  // throws FileError
};

void write_checkpoint(const std::string& path, const CheckpointContents& contents);
// Throws drmm::FileError naming the file and the problem (bad magic, unsupported version,
// truncated, checksum mismatch, header sizes that disagree with the file).
CheckpointContents read_checkpoint(const std::string& path);

}  // namespace drmm
