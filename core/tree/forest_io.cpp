#include "core/tree/forest_io.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/regular_file.h"

namespace drmm::tree {

static_assert(std::endian::native == std::endian::little, "the forest format is little-endian");

namespace {

constexpr char kMagic[8] = {'D', 'R', 'M', 'M', 'F', 'R', 'S', 'T'};
constexpr size_t kHeaderSize = 32;
constexpr size_t kNodeBytes = 8 * 4;

// FNV-1a, 64-bit (Fowler, Noll, Vo): detects the corruptions a disk or a truncated copy makes;
// it is not a defence against deliberate tampering, which the structural checks cover.
uint64_t fnv1a64(const uint8_t* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

class Writer {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_array(const std::vector<T>& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    bytes.insert(bytes.end(), p, p + v.size() * sizeof(T));
  }
  std::vector<uint8_t> bytes;
};

class Reader {
 public:
  Reader(const std::string& path, const uint8_t* data, size_t size) : path_(path), data_(data), size_(size) {}

  template <class T>
  T get(const char* what) {
    need(sizeof(T), 1, what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_array(size_t count, const char* what) {
    need(sizeof(T), count, what);
    std::vector<T> v(count);
    if (count) std::memcpy(v.data(), data_ + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return v;
  }
  bool at_end() const { return pos_ == size_; }
  [[noreturn]] void fail(const std::string& what) const { throw FileError(path_, "malformed forest file: " + what); }

 private:
  // Checked before allocating, so a corrupted count cannot ask for gigabytes.
  void need(size_t element, size_t count, const char* what) const {
    if (count > (size_ - pos_) / element)
      fail(std::string("truncated in ") + what + " (needs " + std::to_string(count) + " × " +
           std::to_string(element) + " bytes at body offset " + std::to_string(pos_) + ", " +
           std::to_string(size_ - pos_) + " left)");
  }
  const std::string& path_;
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

void put_tree(Writer& w, const ObliqueTree& t) {
  w.put(uint32_t(t.nodes.size()));
  w.put(uint32_t(t.support.size()));
  w.put(uint32_t(t.mutations.size()));
  w.put_array(t.root_template);
  for (const TreeNode& n : t.nodes) {
    w.put(n.parent), w.put(n.first_child), w.put(n.num_children), w.put(n.depth);
    w.put(n.support_begin), w.put(n.support_size), w.put(n.mutation_begin), w.put(n.bias);
  }
  w.put_array(t.support);
  w.put_array(t.mutations);
  w.put_array(t.class_counts);
}

std::vector<uint8_t> forest_body(const Forest& f) {
  Writer w;
  w.put(uint32_t(f.trees.size()));
  w.put(uint32_t(f.num_features));
  w.put(uint32_t(f.num_classes));
  w.put(uint32_t(f.shape.channels)), w.put(uint32_t(f.shape.height)), w.put(uint32_t(f.shape.width));
  for (int c = 0; c < f.num_classes; ++c) {
    const std::string name = c < int(f.class_names.size()) ? f.class_names[c] : std::string();
    w.put(uint32_t(name.size()));
    w.bytes.insert(w.bytes.end(), name.begin(), name.end());
  }
  for (const ObliqueTree& t : f.trees) put_tree(w, t);
  return std::move(w.bytes);
}

// Every index a tree holds must point inside its arrays, and children must come after their
// parent (so every walk from the root ends at a leaf).
void check_tree(const ObliqueTree& t, size_t index, const Reader& r) {
  const std::string where = "tree " + std::to_string(index) + ": ";
  const size_t N = t.nodes.size();
  if (N == 0) r.fail(where + "has no nodes");
  if (t.nodes[0].parent != -1) r.fail(where + "the root has a parent");
  for (size_t i = 0; i < N; ++i) {
    const TreeNode& n = t.nodes[i];
    const std::string at = where + "node " + std::to_string(i) + ": ";
    if (n.num_children == 1) r.fail(at + "has exactly one child");
    if (n.num_children > 0) {
      if (n.first_child <= int64_t(i) || uint64_t(n.first_child) + n.num_children > N)
        r.fail(at + "children out of range");
      if (uint64_t(n.support_begin) + n.support_size > t.support.size()) r.fail(at + "support out of range");
      for (uint32_t k = 0; k < n.support_size; ++k)
        if (t.support[n.support_begin + k] >= uint32_t(t.num_features)) r.fail(at + "support pixel out of range");
      for (uint32_t g = 0; g < n.num_children; ++g) {
        const TreeNode& child = t.nodes[n.first_child + g];
        if (child.parent != int32_t(i)) r.fail(at + "a child does not name it as parent");
        if (child.depth != n.depth + 1) r.fail(at + "a child's depth is wrong");
        if (uint64_t(child.mutation_begin) + n.support_size > t.mutations.size())
          r.fail(at + "a child's mutation is out of range");
        if (!std::isfinite(child.bias)) r.fail(at + "a child's bias is not finite");
      }
    }
    if (i > 0) {  // every other node is one of its parent's children, so walks up end at the root
      if (n.parent < 0 || size_t(n.parent) >= i) r.fail(at + "parent out of range");
      const TreeNode& p = t.nodes[n.parent];
      if (p.num_children == 0 || int64_t(i) < p.first_child || int64_t(i) >= int64_t(p.first_child) + p.num_children)
        r.fail(at + "is not among its parent's children");
    }
  }
  for (float v : t.mutations)
    if (!std::isfinite(v)) r.fail(where + "a mutation value is not finite");
  for (float v : t.class_counts)
    if (!(v >= 0) || !std::isfinite(v)) r.fail(where + "a class count is negative or not finite");
}

ObliqueTree get_tree(Reader& r, int features, int classes, size_t index) {
  ObliqueTree t;
  t.num_features = features;
  t.num_classes = classes;
  const uint32_t nodes = r.get<uint32_t>("tree sizes");
  const uint32_t supports = r.get<uint32_t>("tree sizes");
  const uint32_t mutations = r.get<uint32_t>("tree sizes");
  t.root_template = r.get_array<float>(size_t(features), "root template");
  const std::vector<uint8_t> raw = r.get_array<uint8_t>(size_t(nodes) * kNodeBytes, "nodes");
  t.nodes.resize(nodes);
  for (size_t i = 0; i < nodes; ++i) {
    const uint8_t* p = raw.data() + i * kNodeBytes;
    TreeNode& n = t.nodes[i];
    std::memcpy(&n.parent, p, 4), std::memcpy(&n.first_child, p + 4, 4), std::memcpy(&n.num_children, p + 8, 4);
    std::memcpy(&n.depth, p + 12, 4), std::memcpy(&n.support_begin, p + 16, 4);
    std::memcpy(&n.support_size, p + 20, 4), std::memcpy(&n.mutation_begin, p + 24, 4), std::memcpy(&n.bias, p + 28, 4);
  }
  t.support = r.get_array<uint32_t>(supports, "supports");
  t.mutations = r.get_array<float>(mutations, "mutations");
  t.class_counts = r.get_array<float>(size_t(nodes) * size_t(classes), "class counts");
  check_tree(t, index, r);
  return t;
}

Forest parse_body(const std::string& path, const uint8_t* data, size_t size) {
  Reader r(path, data, size);
  Forest f;
  const uint32_t trees = r.get<uint32_t>("forest sizes");
  const uint32_t features = r.get<uint32_t>("forest sizes"), classes = r.get<uint32_t>("forest sizes");
  const uint32_t channels = r.get<uint32_t>("shape"), height = r.get<uint32_t>("shape"), width = r.get<uint32_t>("shape");
  if (trees == 0) r.fail("it holds no trees");
  if (classes == 0 || classes > 65536) r.fail("class count " + std::to_string(classes) + " out of range");
  if (features == 0 || uint64_t(channels) * height * width != features)
    r.fail("shape " + std::to_string(channels) + "×" + std::to_string(height) + "×" + std::to_string(width) +
           " does not match " + std::to_string(features) + " features");
  f.num_features = int(features), f.num_classes = int(classes);
  f.shape = FeatureShape{int(channels), int(height), int(width)};
  for (uint32_t c = 0; c < classes; ++c) {
    const uint32_t length = r.get<uint32_t>("class names");
    const std::vector<char> name = r.get_array<char>(length, "class names");
    f.class_names.emplace_back(name.begin(), name.end());
  }
  for (uint32_t t = 0; t < trees; ++t) f.trees.push_back(get_tree(r, f.num_features, f.num_classes, t));
  if (!r.at_end()) r.fail("bytes left over after the last tree");
  return f;
}

}  // namespace

void save_forest(const Forest& forest, const std::string& path) {
  const std::vector<uint8_t> body = forest_body(forest);
  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, 8);
  const uint32_t version = kForestFormatVersion;
  const uint64_t size = body.size(), checksum = fnv1a64(body.data(), body.size());
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 16, &size, 8);
  std::memcpy(header + 24, &checksum, 8);
  std::vector<char> file(reinterpret_cast<const char*>(header), reinterpret_cast<const char*>(header) + kHeaderSize);
  file.insert(file.end(), body.begin(), body.end());
  write_file_atomically(path, file);  // a failed save keeps the previous forest
}

Forest load_forest(const std::string& path) {
  regular_file_size(path);  // a FIFO would block the read below forever; a folder fails obscurely
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path, "cannot open forest file");
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < kHeaderSize)
    throw FileError(path, "not a forest file: " + std::to_string(file.size()) + " bytes, shorter than the header");
  if (std::memcmp(file.data(), kMagic, 8) != 0) throw FileError(path, "not a forest file (bad magic)");
  uint32_t version;
  uint64_t size, checksum;
  std::memcpy(&version, file.data() + 8, 4);
  std::memcpy(&size, file.data() + 16, 8);
  std::memcpy(&checksum, file.data() + 24, 8);
  if (version != kForestFormatVersion)
    throw FileError(path, "forest format version " + std::to_string(version) + " is not supported (this build reads " +
                              std::to_string(kForestFormatVersion) + ")");
  if (size != file.size() - kHeaderSize)
    throw FileError(path, "file is " + std::to_string(file.size()) + " bytes but its header says " +
                              std::to_string(size + kHeaderSize) + " (truncated or padded)");
  if (fnv1a64(file.data() + kHeaderSize, size) != checksum)
    throw FileError(path, "checksum mismatch: the forest file is corrupted");
  return parse_body(path, file.data() + kHeaderSize, size_t(size));
}

}  // namespace drmm::tree
