#include "core/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/util/error.h"
#include "core/util/atomic_file.h"
#include "core/util/regular_file.h"

namespace drmm {
namespace {

constexpr char kMagic[8] = {'D', 'R', 'M', 'M', 'C', 'K', 'P', 'T'};
constexpr size_t kMaxCheckpointBytes = size_t(8) << 30;  // refuse anything larger than 8 GiB

void append_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

uint32_t read_u32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(bytes[at + i])) << (8 * i);
  return v;
}

uint32_t crc_of(const std::string& bytes, size_t length) {
  return uint32_t(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), uInt(length)));
}

std::string read_whole_file(const std::string& path) {
  const uint64_t size = regular_file_size(path);
  if (size > kMaxCheckpointBytes) throw FileError(path, "checkpoint is larger than 8 GiB; refusing to load it");
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), std::streamsize(size))) throw FileError(path, "cannot read checkpoint");
  return bytes;
}

Shape shape_from_json(const nlohmann::json& j, const std::string& path) {
  if (!j.is_array() || j.size() != 4) throw FileError(path, "checkpoint header: a tensor shape is not [n,c,h,w]");
  Shape s{j[0].get<int>(), j[1].get<int>(), j[2].get<int>(), j[3].get<int>()};
  uint64_t elements = 1;
  for (int d : {s.n, s.c, s.h, s.w}) {
    if (d < 1 || d > (1 << 24)) throw FileError(path, "checkpoint header: a tensor dimension is out of range");
    // Each factor is below 2^24 and the running product stays below 2^36, so nothing wraps.
    elements *= uint64_t(d);
    if (elements > kMaxCheckpointBytes / sizeof(float))
      throw FileError(path, "checkpoint header: a tensor has more elements than a checkpoint can hold");
  }
  return s;
}

}  // namespace

const NamedArray& CheckpointContents::find(const std::string& name, const std::string& path) const {
  for (const NamedArray& a : arrays)
    if (a.name == name) return a;
  throw FileError(path, "checkpoint has no tensor '" + name + "'");
}

void write_checkpoint(const std::string& path, const CheckpointContents& contents) {
  nlohmann::json header{{"meta", contents.meta}, {"tensors", nlohmann::json::array()}};
  for (const NamedArray& a : contents.arrays) {
    if (a.values.size() != a.shape.count()) throw Error("write_checkpoint: tensor " + a.name + " has the wrong size");
    header["tensors"].push_back({{"name", a.name}, {"shape", {a.shape.n, a.shape.c, a.shape.h, a.shape.w}}});
  }
  const std::string header_text = header.dump();
  std::string bytes(kMagic, sizeof kMagic);
  append_u32(bytes, kCheckpointVersion);
  append_u32(bytes, uint32_t(header_text.size()));
  bytes += header_text;
  for (const NamedArray& a : contents.arrays)
    bytes.append(reinterpret_cast<const char*>(a.values.data()), a.values.size() * sizeof(float));
  append_u32(bytes, crc_of(bytes, bytes.size()));
  write_file_atomically(path, bytes);
}

CheckpointContents read_checkpoint(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  constexpr size_t kFixed = sizeof kMagic + 4 + 4;
  if (bytes.size() < kFixed + 4) throw FileError(path, "truncated checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) throw FileError(path, "not a DRMM checkpoint (bad magic)");
  const uint32_t version = read_u32(bytes, 8);
  if (version != kCheckpointVersion)
    throw FileError(path, "unsupported checkpoint version " + std::to_string(version) + " (this build reads " +
                              std::to_string(kCheckpointVersion) + ")");
  const size_t header_length = read_u32(bytes, 12);
  if (header_length > bytes.size() - kFixed - 4)
    throw FileError(path, "truncated checkpoint: the header claims more bytes than the file holds");
  if (read_u32(bytes, bytes.size() - 4) != crc_of(bytes, bytes.size() - 4))
    throw FileError(path, "checksum mismatch: the checkpoint is corrupted");
  CheckpointContents contents;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(kFixed, header_length));
    contents.meta = header.at("meta");
    size_t offset = kFixed + header_length;
    for (const auto& t : header.at("tensors")) {
      NamedArray a{t.at("name").get<std::string>(), shape_from_json(t.at("shape"), path), {}};
      const size_t n = a.shape.count();
      if (n > (bytes.size() - 4 - offset) / sizeof(float))
        throw FileError(path, "truncated checkpoint: tensor '" + a.name + "' extends past the end of the file");
      a.values.resize(n);
      std::memcpy(a.values.data(), bytes.data() + offset, n * sizeof(float));
      offset += n * sizeof(float);
      contents.arrays.push_back(std::move(a));
    }
    if (offset != bytes.size() - 4) throw FileError(path, "checkpoint has data after its last tensor");
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, std::string("checkpoint header is not valid: ") + e.what());
  }
  return contents;
}

}  // namespace drmm
