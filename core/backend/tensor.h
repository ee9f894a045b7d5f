#pragma once
// A Tensor is a shape plus a handle to memory owned by one Backend (host memory for cpu,
// a device buffer for vulkan). Layout is always NCHW, dense, row-major. Tensors are
// cheap to copy: copies share the memory (shared_ptr), like a handle.
#include <cstddef>
#include <memory>
#include <string>

namespace drmm {

struct Shape {
  int n = 1, c = 1, h = 1, w = 1;

  size_t count() const { return size_t(n) * size_t(c) * size_t(h) * size_t(w); }
  size_t per_image() const { return size_t(c) * size_t(h) * size_t(w); }
  size_t plane() const { return size_t(h) * size_t(w); }
  bool operator==(const Shape&) const = default;
  std::string str() const;  // "NxCxHxW"
};

// Backend-specific memory; each backend derives its own storage type from this.
class Storage {
 public:
  virtual ~Storage() = default;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(Shape shape, std::shared_ptr<Storage> storage) : shape_(shape), storage_(std::move(storage)) {}

  const Shape& shape() const { return shape_; }
  size_t count() const { return shape_.count(); }
  bool empty() const { return !storage_; }
  Storage* storage() const { return storage_.get(); }

 private:
  Shape shape_;
  std::shared_ptr<Storage> storage_;
};

}  // namespace drmm
