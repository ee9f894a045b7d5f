#pragma once
// Cache-line-aligned, uninitialised scratch arrays for the cpu backend (tensor storage and
// GEMM panels): 64-byte alignment keeps vector loads from straddling cache lines.
#include <cstddef>
#include <memory>
#include <new>

namespace drmm::cpu {

template <class T>
class AlignedBuffer {
 public:
  static constexpr std::align_val_t kAlignment{64};

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { resize(count); }

  // Grows (never shrinks) the buffer; the contents are not kept.
  void reserve_discard(size_t count) {
    if (count > size_) resize(count);
  }
  void resize(size_t count) {
    data_.reset(count ? static_cast<T*>(::operator new(count * sizeof(T), kAlignment)) : nullptr);
    size_ = count;
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(T* p) const { ::operator delete(p, kAlignment); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace drmm::cpu
