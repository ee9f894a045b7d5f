#include "core/backend/backend.h"

#include <algorithm>

#include "core/backend/op_checks.h"
#include "core/util/error.h"

namespace drmm {

// Theano's border modes (paper 002 App. A: "Full, half, and valid convolutions follow the
// standards in Theano").
int conv_padding(ConvMode mode, int kernel) {
  switch (mode) {
    case ConvMode::Valid: return 0;
    case ConvMode::Half: return kernel / 2;
    case ConvMode::Full: return kernel - 1;
  }
  return 0;
}

int conv_output_size(int input, int kernel, int pad) { return input + 2 * pad - kernel + 1; }

ConvMode parse_conv_mode(const std::string& text) {
  if (text == "valid") return ConvMode::Valid;
  if (text == "half") return ConvMode::Half;
  if (text == "full") return ConvMode::Full;
  throw Error("unknown convolution mode '" + text + "' (expected valid, half or full)");
}

std::string conv_mode_name(ConvMode mode) {
  switch (mode) {
    case ConvMode::Valid: return "valid";
    case ConvMode::Half: return "half";
    case ConvMode::Full: return "full";
  }
  return "?";
}

// ---- memory ------------------------------------------------------------------------------
// Each op checks its arguments (op_checks.h) and then hands them to the backend.

Tensor Backend::alloc(Shape shape) {
  checks::require(shape.n >= 0 && shape.c >= 0 && shape.h >= 0 && shape.w >= 0, "alloc",
                  [&] { return "negative size " + shape.str(); });
  return run_alloc(shape);
}

void Backend::upload(Tensor& dst, std::span<const float> src) {
  checks::allocated("upload", {{"dst", dst}});
  checks::require(src.size() == dst.count(), "upload",
                  [&] { return std::to_string(src.size()) + " values for a tensor of " + dst.shape().str(); });
  run_upload(dst, src);
}

std::vector<float> Backend::download(const Tensor& src) {
  checks::allocated("download", {{"src", src}});
  return run_download(src);
}

void Backend::finish() { run_finish(); }

double Backend::read_scalar(const Tensor& t) {
  checks::require(!t.empty() && t.count() >= 1, "read_scalar",
                  [&] { return "t is " + checks::describe(t) + ", expected at least 1 element"; });
  return run_read_scalar(t);
}

void Backend::fill(Tensor& t, float value) {
  checks::allocated("fill", {{"t", t}});
  run_fill(t, value);
}

void Backend::copy(const Tensor& src, Tensor& dst) {
  checks::same_count("copy", {"src", src}, {"dst", dst});
  run_copy(src, dst);
}

// ---- convolution -------------------------------------------------------------------------

void Backend::conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) {
  checks::conv("conv2d", {"x", x}, {"w", w}, pad, {"y", y});
  checks::distinct("conv2d", {"y", y}, {"x", x});
  run_conv2d(x, w, pad, y);
}

void Backend::conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx, bool accumulate) {
  checks::conv("conv2d_backward_input", {"dx", dx}, {"w", w}, pad, {"dy", dy});
  checks::distinct("conv2d_backward_input", {"dx", dx}, {"dy", dy});
  run_conv2d_backward_input(dy, w, pad, dx, accumulate);
}

void Backend::conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw, bool accumulate) {
  checks::conv("conv2d_backward_weight", {"x", x}, {"dw", dw}, pad, {"dy", dy});
  run_conv2d_backward_weight(x, dy, pad, dw, accumulate);
}

// ---- pooling and switches ----------------------------------------------------------------

void Backend::add_channel_bias(Tensor& y, const Tensor& bias) {
  checks::allocated("add_channel_bias", {{"y", y}});
  checks::shape("add_channel_bias", checks::channel_shape(y), {{"bias", bias}});
  run_add_channel_bias(y, bias);
}
void Backend::channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate) {
  checks::allocated("channel_sum", {{"dy", dy}});
  checks::shape("channel_sum", checks::channel_shape(dy), {{"dbias", dbias}});
  run_channel_sum(dy, dbias, accumulate);
}
void Backend::maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) {
  checks::pool("maxpool", {"x", x}, k, {"y", y});
  checks::shape("maxpool", x.shape(), {{"switches", switches}});
  checks::distinct("maxpool", {"switches", switches}, {"x", x});
  run_maxpool(x, k, y, switches);
}

void Backend::unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) {
  checks::pool("unpool", {"x", x}, k, {"y", y});
  checks::shape("unpool", x.shape(), {{"switches", switches}});
  checks::distinct("unpool", {"x", x}, {"y", y});
  run_unpool(y, switches, k, x);
}

void Backend::unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) {
  checks::pool("unpool_backward", {"dx", dx}, k, {"dy", dy});
  checks::shape("unpool_backward", dx.shape(), {{"switches", switches}});
  checks::distinct("unpool_backward", {"dy", dy}, {"dx", dx});
  run_unpool_backward(dx, switches, k, dy);
}

void Backend::upsample(const Tensor& x, int k, Tensor& y) {
  checks::pool("upsample", {"y", y}, k, {"x", x});
  checks::distinct("upsample", {"y", y}, {"x", x});
  run_upsample(x, k, y);
}

void Backend::sum_pool(const Tensor& x, int k, Tensor& y) {
  checks::pool("sum_pool", {"x", x}, k, {"y", y});
  checks::distinct("sum_pool", {"y", y}, {"x", x});
  run_sum_pool(x, k, y);
}

void Backend::mean_pool(const Tensor& x, Tensor& y) {
  checks::allocated("mean_pool", {{"x", x}});
  checks::shape("mean_pool", {x.shape().n, x.shape().c, 1, 1}, {{"y", y}});
  checks::distinct("mean_pool", {"y", y}, {"x", x});
  run_mean_pool(x, y);
}

void Backend::mean_pool_backward(const Tensor& dy, Tensor& dx) {
  checks::allocated("mean_pool_backward", {{"dx", dx}});
  checks::shape("mean_pool_backward", {dx.shape().n, dx.shape().c, 1, 1}, {{"dy", dy}});
  checks::distinct("mean_pool_backward", {"dx", dx}, {"dy", dy});
  run_mean_pool_backward(dy, dx);
}

// ---- elementwise -------------------------------------------------------------------------

void Backend::relu(const Tensor& x, Tensor& y, Tensor& mask) {
  checks::allocated("relu", {{"x", x}});
  checks::shape("relu", x.shape(), {{"y", y}, {"mask", mask}});
  run_relu(x, y, mask);
}

void Backend::mul(const Tensor& a, const Tensor& b, Tensor& y) {
  checks::allocated("mul", {{"a", a}});
  checks::shape("mul", a.shape(), {{"b", b}, {"y", y}});
  run_mul(a, b, y);
}

void Backend::axpy(float alpha, const Tensor& x, Tensor& y) {
  checks::allocated("axpy", {{"x", x}});
  checks::shape("axpy", x.shape(), {{"y", y}});
  run_axpy(alpha, x, y);
}

void Backend::scale(Tensor& y, float alpha) {
  checks::allocated("scale", {{"y", y}});
  run_scale(y, alpha);
}

// ---- batch normalisation -----------------------------------------------------------------

void Backend::batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum, float eps,
                              Tensor& running_mean, Tensor& running_var, Tensor& y, Tensor& saved_mean,
                              Tensor& saved_inv_std) {
  const char* op = "batchnorm_train";
  checks::allocated(op, {{"x", x}});
  checks::shape(op, checks::channel_shape(x),
                {{"gamma", gamma},
                 {"beta", beta},
                 {"running_mean", running_mean},
                 {"running_var", running_var},
                 {"saved_mean", saved_mean},
                 {"saved_inv_std", saved_inv_std}});
  checks::shape(op, x.shape(), {{"y", y}});
  checks::values_per_channel(op, {"x", x});
  run_batchnorm_train(x, gamma, beta, momentum, eps, running_mean, running_var, y, saved_mean, saved_inv_std);
}

void Backend::batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, float eps, Tensor& y) {
  const char* op = "batchnorm_infer";
  checks::allocated(op, {{"x", x}});
  checks::shape(op, checks::channel_shape(x),
                {{"gamma", gamma}, {"beta", beta}, {"running_mean", running_mean}, {"running_var", running_var}});
  checks::shape(op, x.shape(), {{"y", y}});
  run_batchnorm_infer(x, gamma, beta, running_mean, running_var, eps, y);
}

void Backend::batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                                 const Tensor& saved_inv_std, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  const char* op = "batchnorm_backward";
  checks::allocated(op, {{"x", x}});
  checks::shape(op, x.shape(), {{"dy", dy}, {"dx", dx}});
  checks::shape(op, checks::channel_shape(x),
                {{"gamma", gamma},
                 {"saved_mean", saved_mean},
                 {"saved_inv_std", saved_inv_std},
                 {"dgamma", dgamma},
                 {"dbeta", dbeta}});
  checks::distinct(op, {"dx", dx}, {"x", x});
  checks::values_per_channel(op, {"x", x});
  run_batchnorm_backward(dy, x, gamma, saved_mean, saved_inv_std, dx, dgamma, dbeta);
}

// ---- classifier and losses ---------------------------------------------------------------

void Backend::softmax(const Tensor& logits, Tensor& q) {
  checks::scores("softmax", {"logits", logits});
  checks::shape("softmax", logits.shape(), {{"q", q}});
  run_softmax(logits, q);
}

void Backend::cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss, Tensor& dlogits) {
  const char* op = "cross_entropy";
  checks::scores(op, {"q", q});
  checks::labels(op, labels, q.shape().n);
  checks::shape(op, q.shape(), {{"dlogits", dlogits}});
  checks::scalar(op, {"loss", loss});
  run_cross_entropy(q, labels, weight, loss, dlogits);
}

void Backend::kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) {
  checks::scores("kl_loss", {"q", q});
  checks::shape("kl_loss", q.shape(), {{"dlogits", dlogits}});
  checks::scalar("kl_loss", {"loss", loss});
  checks::nonempty_batch("kl_loss", {"q", q});
  run_kl_loss(q, paper_sign, weight, loss, dlogits);
}

void Backend::reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss, Tensor& da) {
  const char* op = "reconstruction_loss";
  checks::allocated(op, {{"a", a}});
  checks::shape(op, a.shape(), {{"b", b}, {"da", da}});
  checks::scalar(op, {"loss", loss});
  checks::nonempty_batch(op, {"a", a});
  run_reconstruction_loss(a, b, weight, loss, da);
}

void Backend::nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) {
  const char* op = "nonnegativity_loss";
  checks::allocated(op, {{"z", z}});
  checks::shape(op, z.shape(), {{"dz", dz}});
  checks::scalar(op, {"loss", loss});
  checks::nonempty_batch(op, {"z", z});
  run_nonnegativity_loss(z, weight, loss, dz);
}

void Backend::rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign, float weight,
                              Tensor& loss, Tensor& dz) {
  const char* op = "rendering_prior";
  checks::allocated(op, {{"masked", masked}});
  checks::shape(op, masked.shape(), {{"mask", mask}, {"dz", dz}});
  checks::shape(op, checks::channel_shape(masked), {{"bias", bias}});
  checks::scalar(op, {"loss", loss});
  checks::nonempty_batch(op, {"masked", masked});
  run_rendering_prior(masked, mask, bias, sign, weight, loss, dz);
}

void Backend::render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot) {
  checks::scores("render_class_onehot", {"q", q});
  checks::labels("render_class_onehot", labels, q.shape().n);
  checks::shape("render_class_onehot", q.shape(), {{"onehot", onehot}});
  run_render_class_onehot(q, labels, use_labels, onehot);
}

void Backend::run_render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot) {
  const int n = q.shape().n, classes = q.shape().c;
  const std::vector<float> probabilities = download(q), label_values = download(labels);
  std::vector<float> result(q.count(), 0.0f);
  for (int i = 0; i < n; ++i) {
    const float* row = probabilities.data() + size_t(i) * classes;
    int cls = int(std::max_element(row, row + classes) - row);
    if (use_labels) {
      // A label that is no class index would put its 1 past the image's row.
      checks::label_value("render_class_onehot", label_values[i], i, classes);
      if (label_values[i] >= 0) cls = int(label_values[i]);
    }
    result[size_t(i) * classes + cls] = 1.0f;
  }
  upload(onehot, result);
}

// ---- statistics and optimisers -----------------------------------------------------------

void Backend::batch_mean_ema(const Tensor& x, float decay, Tensor& ema) {
  checks::allocated("batch_mean_ema", {{"x", x}});
  checks::shape("batch_mean_ema", {1, x.shape().c, x.shape().h, x.shape().w}, {{"ema", ema}});
  checks::nonempty_batch("batch_mean_ema", {"x", x});
  run_batch_mean_ema(x, decay, ema);
}

void Backend::sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) {
  checks::allocated("sgd_step", {{"param", param}});
  checks::shape("sgd_step", param.shape(), {{"grad", grad}, {"velocity", velocity}});
  run_sgd_step(param, grad, velocity, lr, momentum);
}

void Backend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1, float beta2,
                        float eps, int step) {
  checks::allocated("adam_step", {{"param", param}});
  checks::shape("adam_step", param.shape(), {{"grad", grad}, {"m", m}, {"v", v}});
  checks::require(step >= 1, "adam_step", [&] { return "step " + std::to_string(step) + " must count from 1"; });
  run_adam_step(param, grad, m, v, lr, beta1, beta2, eps, step);
}

}  // namespace drmm
