#pragma once
// The argument checks of the Backend ops (backend.h), one layer for every backend: each
// public op runs them before it hands the call to the backend's run_<op>, so cpu and vulkan
// accept and refuse exactly the same calls with the same messages, and a backend's own code
// may take the shapes as given. A failed check throws drmm::Error "<op>: <what is wrong>",
// naming the tensor and the shapes ("conv2d: y is 8x32x14x14, expected 8x32x16x16"): a wrong
// call is an error message, never memory corruption or a device fault.
#include <initializer_list>
#include <string>

#include "core/backend/tensor.h"

namespace drmm::checks {

// A tensor with the name the messages call it by.
struct Named {
  const char* name;
  const Tensor& tensor;
};

std::string describe(const Tensor& t);  // its shape, or "unallocated"
[[noreturn]] void fail(const char* op, const std::string& what);
// `what` (a callable returning the message) runs only when the check fails: the checks run on
// every op of every training step, and building messages there would be work for nothing.
template <class Message>
void require(bool ok, const char* op, Message&& what) {
  if (!ok) fail(op, what());
}

// ---- any tensor ----------------------------------------------------------------------------
void allocated(const char* op, std::initializer_list<Named> tensors);
// Each of `tensors` is allocated and exactly `expected`.
void shape(const char* op, const Shape& expected, std::initializer_list<Named> tensors);
void scalar(const char* op, Named t);  // allocated, 1 element (losses)
void same_count(const char* op, Named a, Named b);
void nonempty_batch(const char* op, Named t);  // N > 0: the op divides by N
// An op that reads `in` in another layout than it writes `out` must not get the same memory
// for both: the result would depend on the order the loops (or invocations) run in.
void distinct(const char* op, Named out, Named in);

// ---- convolution ---------------------------------------------------------------------------
// x (N×Cin×H×W) ⋆ w (Cout×Cin×k×k) with `pad` gives y (N×Cout×Ho×Wo); the backward ops give
// their tensors the same three roles (dx is x's, dy is y's, dw is w's). Checks that the kernel
// is square, the channels match, 0 ≤ pad < k, the output is at least 1×1, and y's shape.
void conv(const char* op, Named x, Named w, int pad, Named y);

// ---- pooling -------------------------------------------------------------------------------
// `fine` (N×C×H×W) is tiled by k×k windows (k ≥ 1 divides H and W) and `coarse` is N×C×H/k×W/k.
void pool(const char* op, Named fine, int k, Named coarse);

// ---- per-channel statistics ----------------------------------------------------------------
Shape channel_shape(const Tensor& x);  // 1×C×1×1 for x's C channels
// x has at least one value per channel (N·H·W > 0): the op divides by that count.
void values_per_channel(const char* op, Named x);

// ---- classifier ----------------------------------------------------------------------------
void scores(const char* op, Named t);                   // allocated, N×C×1×1 (logits, q)
void labels(const char* op, const Tensor& labels, int n);  // N×1×1×1
// One label's value: a class index in [0, classes), or negative for an unlabeled image. Only
// code that has the labels on the host can call it (see Backend::cross_entropy).
void label_value(const char* op, double label, int image, int classes);

}  // namespace drmm::checks
