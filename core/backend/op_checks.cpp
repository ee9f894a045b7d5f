#include "core/backend/op_checks.h"

#include <cmath>
#include <sstream>

#include "core/backend/backend.h"
#include "core/util/error.h"

namespace drmm::checks {

void fail(const char* op, const std::string& what) { throw Error(std::string(op) + ": " + what); }

std::string describe(const Tensor& t) { return t.empty() ? std::string("unallocated") : t.shape().str(); }

// ---- any tensor ----------------------------------------------------------------------------

void allocated(const char* op, std::initializer_list<Named> tensors) {
  for (const Named& t : tensors) require(!t.tensor.empty(), op, [&] { return std::string(t.name) + " is not allocated"; });
}

void shape(const char* op, const Shape& expected, std::initializer_list<Named> tensors) {
  for (const Named& t : tensors)
    require(!t.tensor.empty() && t.tensor.shape() == expected, op,
            [&] { return std::string(t.name) + " is " + describe(t.tensor) + ", expected " + expected.str(); });
}

void scalar(const char* op, Named t) {
  require(!t.tensor.empty() && t.tensor.count() == 1, op,
          [&] { return std::string(t.name) + " is " + describe(t.tensor) + ", expected 1 element"; });
}

void same_count(const char* op, Named a, Named b) {
  allocated(op, {a, b});
  require(a.tensor.count() == b.tensor.count(), op, [&] {
    return std::string(a.name) + " " + a.tensor.shape().str() + " and " + b.name + " " + b.tensor.shape().str() +
           " hold different counts";
  });
}

void nonempty_batch(const char* op, Named t) {
  require(t.tensor.shape().n > 0, op, [&] { return std::string(t.name) + " " + t.tensor.shape().str() + " is an empty batch"; });
}

void distinct(const char* op, Named out, Named in) {
  require(out.tensor.storage() != in.tensor.storage(), op,
          [&] { return std::string(out.name) + " must not share memory with " + in.name; });
}

// ---- convolution ---------------------------------------------------------------------------

void conv(const char* op, Named x, Named w, int pad, Named y) {
  allocated(op, {x, w});
  const Shape& xs = x.tensor.shape();
  const Shape& ws = w.tensor.shape();
  const auto with_shapes = [&](const char* what) {
    return [&, what] {
      return std::string(what) + " (" + x.name + " " + xs.str() + ", " + w.name + " " + ws.str() + ", pad " +
             std::to_string(pad) + ")";
    };
  };
  require(ws.h == ws.w, op, with_shapes("kernel must be square"));
  require(xs.c == ws.c, op, with_shapes("input channels differ"));
  require(pad >= 0 && pad < ws.h, op, with_shapes("pad must be in [0, k)"));
  const Shape out{xs.n, ws.n, conv_output_size(xs.h, ws.h, pad), conv_output_size(xs.w, ws.h, pad)};
  require(out.h >= 1 && out.w >= 1, op, with_shapes("kernel larger than the padded input"));
  shape(op, out, {y});
}

// ---- pooling -------------------------------------------------------------------------------

void pool(const char* op, Named fine, int k, Named coarse) {
  allocated(op, {fine});
  const Shape& s = fine.tensor.shape();
  require(k >= 1 && s.h % k == 0 && s.w % k == 0, op, [&] {
    return std::string(fine.name) + " " + s.str() + " cannot be split into " + std::to_string(k) + "x" +
           std::to_string(k) + " windows";
  });
  shape(op, {s.n, s.c, s.h / k, s.w / k}, {coarse});
}

// ---- per-channel statistics ----------------------------------------------------------------

Shape channel_shape(const Tensor& x) { return {1, x.shape().c, 1, 1}; }

void values_per_channel(const char* op, Named x) {
  const Shape& s = x.tensor.shape();
  require(s.n * s.h * s.w > 0, op, [&] { return std::string(x.name) + " " + s.str() + " has no values per channel"; });
}

// ---- classifier ----------------------------------------------------------------------------

void scores(const char* op, Named t) {
  allocated(op, {t});
  require(t.tensor.shape().h == 1 && t.tensor.shape().w == 1, op,
          [&] { return std::string(t.name) + " is " + t.tensor.shape().str() + ", expected NxCx1x1"; });
}

void labels(const char* op, const Tensor& labels, int n) { shape(op, {n, 1, 1, 1}, {{"labels", labels}}); }

void label_value(const char* op, double label, int image, int classes) {
  if (label < 0 || (label == std::floor(label) && label < classes)) return;
  std::ostringstream what;  // shortest form: "label 10", "label 1.5"
  what << "label " << label << " of image " << image << " is not a class index in [0, " << classes
       << ") or negative (unlabeled)";
  fail(op, what.str());
}

}  // namespace drmm::checks
