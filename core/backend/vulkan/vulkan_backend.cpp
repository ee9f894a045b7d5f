#include "core/backend/vulkan/vulkan_backend.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

#include "core/backend/vulkan/vulkan_context.h"
#include "core/backend/vulkan/vulkan_kernels.h"
#include "core/backend/vulkan/vulkan_sequence.h"
#include "core/backend/vulkan/vulkan_storage.h"
#include "core/util/error.h"

namespace drmm {

using vk::VulkanStorage;

namespace {

// One 32-bit push-constant word; the shaders declare their push blocks as int/uint/float
// fields in the order the host lists the words.
struct Word {
  uint32_t bits;
  Word(int v) : bits(uint32_t(v)) {}
  Word(unsigned v) : bits(v) {}
  Word(size_t v) : bits(uint32_t(v)) {
    if (v > UINT32_MAX) throw Error("vulkan: tensor too large for 32-bit indexing");
  }
  Word(float v) : bits(std::bit_cast<uint32_t>(v)) {}
  Word(double v) : Word(float(v)) {}
};

using Groups = std::array<uint32_t, 3>;
using TensorRef = std::reference_wrapper<const Tensor>;
constexpr uint32_t kLocalSize = 256;   // LOCAL_SIZE_1D in shaders/common.glsl
constexpr uint32_t kMaxGroups = 65535;  // the smallest maxComputeWorkGroupCount allowed
constexpr uint32_t kMaxPartials = 256;  // workgroups of a two-pass loss reduction

// Enough workgroups of kLocalSize for `count` elements, capped: the shaders loop
// (grid-stride) over what a capped grid does not cover.
Groups linear(size_t count, uint32_t cap = kMaxGroups) {
  return {uint32_t(std::clamp<size_t>((count + kLocalSize - 1) / kLocalSize, 1, cap)), 1, 1};
}

uint32_t ceil_div(size_t a, size_t b) { return uint32_t((a + b - 1) / b); }

// Sizes of one convolution (backend.h: stride 1, square kernel, `pad` on every side), from
// arguments Backend has checked (op_checks.h).
struct ConvGeometry {
  int batch, cin, h, w, cout, ho, wo, k, pad;
};

ConvGeometry conv_geometry(const Shape& x, const Shape& w, int pad) {
  return {x.n, x.c, x.h, x.w, w.n, conv_output_size(x.h, w.h, pad), conv_output_size(x.w, w.h, pad), w.h, pad};
}

// The block of C one conv_gemm.comp workgroup computes: 256 invocations shaped wgx×wgy,
// each with a tm×tn micro-tile. Rows (Cout or Cin) are few in some layers (1 for the first
// layer's input gradient, 10 for the classifier), columns always many: the workgroup is
// made only as tall as the rows need, so little of the block is padding.
struct GemmTiling {
  int tm, tn, wgx, wgy;
  int block_rows() const { return wgy * tm; }
  int block_cols() const { return wgx * tn; }
};

// `shared_bytes`: the device's maxComputeSharedMemorySize (16 KiB at least), which bounds
// the two staged tiles, (block_rows + block_cols)·BK floats with BK = 16.
GemmTiling gemm_tiling(int rows, int cols, uint32_t shared_bytes) {
  constexpr int kBK = 16;
  GemmTiling t{};
  t.tm = rows >= 64 ? 4 : rows >= 32 ? 2 : 1;
  t.wgy = 2;  // at most 128 columns of invocations: a 256-wide B tile alone would fill 16 KiB
  while (t.wgy < 16 && t.wgy * t.tm < rows) t.wgy *= 2;
  t.wgx = int(kLocalSize) / t.wgy;
  auto fits = [&](int tn) {
    return size_t(t.block_rows() + t.wgx * tn) * kBK * sizeof(float) <= shared_bytes;
  };
  t.tn = 1;
  for (int tn : {4, 2})
    if (cols >= tn * t.wgx && fits(tn)) {
      t.tn = tn;
      break;
    }
  return t;
}

}  // namespace

struct VulkanBackend::Impl {
  std::shared_ptr<vk::Context> context;
  // Destroyed in reverse: the sequence (waits for the device) first, then the pipelines.
  std::unique_ptr<vk::KernelCache> kernels;
  std::unique_ptr<vk::Sequence> sequence;

  VulkanStorage& storage(const Tensor& t) const {
    auto* s = dynamic_cast<VulkanStorage*>(t.storage());
    if (!s || s->context() != context.get()) throw Error("vulkan: tensor does not belong to this backend");
    return *s;
  }

  std::shared_ptr<VulkanStorage> buffer(size_t floats, bool staging) {
    return std::make_shared<VulkanStorage>(context, context->acquire(floats * sizeof(float), staging));
  }
  // A device tensor for intermediate results; not zero-filled (its kernel writes it all).
  Tensor scratch(size_t floats) { return Tensor(Shape{1, 1, 1, int(floats)}, buffer(floats, false)); }

  // Records one dispatch of `shader`: tensors bind to 0…N−1, spec[i] is constant_id i.
  void run(std::string_view shader, std::span<const int32_t> spec, std::span<const TensorRef> tensors,
           std::span<const Word> push, Groups groups) {
    std::array<VkBuffer, 8> handles{};
    std::array<uint32_t, vk::kPushConstantBytes / 4> words{};
    if (tensors.size() > handles.size() || push.size() > words.size())
      throw Error("vulkan: " + std::string(shader) + " binds too much");
    for (size_t i = 0; i < tensors.size(); ++i) {
      VulkanStorage& s = storage(tensors[i]);
      handles[i] = s.handle();
      sequence->hold(s.shared_from_this());
    }
    for (size_t i = 0; i < push.size(); ++i) words[i] = push[i].bits;
    const vk::Kernel& kernel = kernels->get(shader, spec, uint32_t(tensors.size()));
    sequence->dispatch(kernel, std::span(handles.data(), tensors.size()), std::span(words.data(), push.size()),
                       groups);
  }
  void run(std::string_view shader, std::initializer_list<int32_t> spec, std::initializer_list<TensorRef> tensors,
           std::initializer_list<Word> push, Groups groups) {
    run(shader, std::span(spec.begin(), spec.size()), std::span(tensors.begin(), tensors.size()),
        std::span(push.begin(), push.size()), groups);
  }

  // conv_gemm.comp in one of its three modes (see the shader for M, N, K of each).
  void conv_gemm(int mode, const Tensor& a, const Tensor& b, const Tensor& c, const ConvGeometry& g, bool accumulate) {
    const int kk = g.k * g.k;
    const int M = mode == 1 ? g.cin : g.cout;
    const int N = mode == 0 ? g.batch * g.ho * g.wo : mode == 1 ? g.batch * g.h * g.w : g.cin * kk;
    const int K = mode == 0 ? g.cin * kk : mode == 1 ? g.cout * kk : g.batch * g.ho * g.wo;
    const GemmTiling t = gemm_tiling(M, N, context->properties().limits.maxComputeSharedMemorySize);
    const uint32_t rows = ceil_div(M, t.block_rows()), cols = std::min(ceil_div(N, t.block_cols()), kMaxGroups);
    // Split-K for the weight gradient: its C is small (Cout × Cin·k²) and its K large
    // (batch·Ho·Wo), so without it one or two workgroups would do all the work.
    uint32_t slices = 1;
    if (mode == 2) {
      constexpr uint32_t kTargetGroups = 64, kMinSliceK = 256;
      slices = std::max(1u, std::min(ceil_div(K, kMinSliceK), kTargetGroups / std::max(1u, rows * cols)));
    }
    const int k_per_slice = int(ceil_div(ceil_div(K, slices), 16) * 16);
    slices = ceil_div(K, k_per_slice);
    const int32_t spec[] = {mode, g.k, t.tm, t.tn, t.wgx, t.wgy};
    // Word 8 is `accumulate`; split-K slices ignore it (sum_slices applies it).
    const Word words[] = {g.batch, g.cin, g.h, g.w, g.cout, g.ho, g.wo, g.pad, int(accumulate), M, N, K, k_per_slice};
    if (slices == 1) {
      const TensorRef bound[] = {a, b, c};
      run("conv_gemm", spec, bound, words, {cols, rows, 1});
      return;
    }
    const size_t count = size_t(M) * size_t(N);
    Tensor partial = scratch(count * slices);
    const TensorRef bound[] = {a, b, partial};
    run("conv_gemm", spec, bound, words, {cols, rows, slices});
    run("sum_slices", {}, {partial, c}, {count, slices, int(accumulate)}, linear(count));
  }

  // Two-pass summed loss: `first` writes per-workgroup partial sums (and the gradient),
  // reduce_partials.comp adds them into loss[0] with `scale`. The first pass's push constants
  // are count, grad_scale, then `extra`.
  void summed_loss(std::string_view first, std::initializer_list<TensorRef> tensors, size_t count,
                   float grad_scale, float scale, bool accumulate, const Tensor& loss,
                   std::initializer_list<Word> extra = {}) {
    const Groups groups = linear(count, kMaxPartials);
    Tensor partials = scratch(groups[0]);
    std::vector<TensorRef> bound(tensors);
    bound.push_back(partials);
    std::vector<Word> words{count, grad_scale};
    words.insert(words.end(), extra);
    run(first, {}, bound, words, groups);
    run("reduce_partials", {}, {partials, loss}, {size_t(groups[0]), scale, int(accumulate)}, {1, 1, 1});
  }
};

VulkanBackend::VulkanBackend(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->context = vk::Context::create({options.validation, options.device_index, options.map_device_memory});
  impl_->kernels = std::make_unique<vk::KernelCache>(impl_->context);
  impl_->sequence = std::make_unique<vk::Sequence>(impl_->context);
}

VulkanBackend::~VulkanBackend() {
  if (!impl_) return;
  try {
    impl_->sequence->submit_and_wait();  // queued work may write tensors others still hold
  } catch (const Error&) {
    // Destructors must not throw; the device is torn down below regardless.
  }
  impl_->sequence.reset();
  impl_->kernels.reset();
}

std::vector<VulkanDeviceSummary> VulkanBackend::list_devices(std::string* reason) {
  const vk::Probe probe = vk::probe_devices();
  if (reason) *reason = probe.reason;
  std::vector<VulkanDeviceSummary> devices;
  for (const vk::DeviceInfo& d : probe.devices)
    devices.push_back({d.name, vk::device_type_name(d.type), vk::is_gpu(d.type)});
  return devices;
}

std::string VulkanBackend::name() const { return "vulkan (" + impl_->context->device_name() + ")"; }
bool VulkanBackend::on_gpu() const { return vk::is_gpu(impl_->context->properties().deviceType); }
std::vector<std::string> VulkanBackend::validation_messages() const { return impl_->context->validation_messages(); }
uint64_t VulkanBackend::submit_count() const { return impl_->sequence->submits(); }

// ---- memory ---------------------------------------------------------------------------

Tensor VulkanBackend::run_alloc(Shape shape) {
  auto s = impl_->buffer(shape.count(), false);
  impl_->sequence->fill(s->handle(), VK_WHOLE_SIZE, 0);  // recycled buffers hold old data
  impl_->sequence->hold(s);
  return Tensor(shape, s);
}

void VulkanBackend::run_upload(Tensor& dst, std::span<const float> src) {
  VulkanStorage& s = impl_->storage(dst);
  const size_t bytes = src.size_bytes();
  // Nothing queued means nothing on the device can still read or write dst: write it in
  // place when its memory is mapped (lavapipe, UMA), no staging copy needed.
  if (impl_->sequence->empty() && s.buffer().mapped) {
    std::memcpy(s.buffer().mapped, src.data(), bytes);
    return;
  }
  auto staging = impl_->buffer(src.size(), true);
  std::memcpy(staging->buffer().mapped, src.data(), bytes);
  impl_->sequence->copy(staging->handle(), s.handle(), bytes);
  impl_->sequence->hold(staging);
  impl_->sequence->hold(s.shared_from_this());
}

std::vector<float> VulkanBackend::run_download(const Tensor& src) {
  VulkanStorage& s = impl_->storage(src);
  std::vector<float> out(src.count());
  const size_t bytes = out.size() * sizeof(float);
  if (s.buffer().mapped) {
    finish();
    std::memcpy(out.data(), s.buffer().mapped, bytes);
    return out;
  }
  auto staging = impl_->buffer(out.size(), true);
  impl_->sequence->copy(s.handle(), staging->handle(), bytes);
  impl_->sequence->hold(s.shared_from_this());
  finish();
  std::memcpy(out.data(), staging->buffer().mapped, bytes);
  return out;
}

void VulkanBackend::run_finish() { impl_->sequence->submit_and_wait(); }

void VulkanBackend::run_fill(Tensor& t, float value) {
  VulkanStorage& s = impl_->storage(t);
  impl_->sequence->fill(s.handle(), t.count() * sizeof(float), std::bit_cast<uint32_t>(value));
  impl_->sequence->hold(s.shared_from_this());
}

void VulkanBackend::run_copy(const Tensor& src, Tensor& dst) {
  VulkanStorage& from = impl_->storage(src);
  VulkanStorage& to = impl_->storage(dst);
  if (&from == &to) return;
  impl_->sequence->copy(from.handle(), to.handle(), src.count() * sizeof(float));
  impl_->sequence->hold(from.shared_from_this());
  impl_->sequence->hold(to.shared_from_this());
}

// ---- convolution ----------------------------------------------------------------------

void VulkanBackend::run_conv2d(const Tensor& x, const Tensor& w, int pad, Tensor& y) {
  const ConvGeometry g = conv_geometry(x.shape(), w.shape(), pad);
  impl_->conv_gemm(0, w, x, y, g, false);
}

void VulkanBackend::run_conv2d_backward_input(const Tensor& dy, const Tensor& w, int pad, Tensor& dx, bool accumulate) {
  const ConvGeometry g = conv_geometry(dx.shape(), w.shape(), pad);
  impl_->conv_gemm(1, w, dy, dx, g, accumulate);
}

void VulkanBackend::run_conv2d_backward_weight(const Tensor& x, const Tensor& dy, int pad, Tensor& dw,
                                               bool accumulate) {
  const ConvGeometry g = conv_geometry(x.shape(), dw.shape(), pad);
  impl_->conv_gemm(2, dy, x, dw, g, accumulate);
}

void VulkanBackend::run_add_channel_bias(Tensor& y, const Tensor& bias) {
  const Shape& s = y.shape();
  impl_->run("add_channel_bias", {}, {y, bias}, {y.count(), s.c, s.plane()}, linear(y.count()));
}

void VulkanBackend::run_channel_sum(const Tensor& dy, Tensor& dbias, bool accumulate) {
  const Shape& s = dy.shape();
  impl_->run("channel_sum", {}, {dy, dbias}, {s.n, s.c, s.plane(), accumulate ? 1 : 0}, {uint32_t(s.c), 1, 1});
}

// ---- pooling and switches -------------------------------------------------------------

void VulkanBackend::run_maxpool(const Tensor& x, int k, Tensor& y, Tensor& switches) {
  impl_->run("maxpool", {k}, {x, y, switches}, {y.count(), y.shape().h, y.shape().w}, linear(y.count()));
}

void VulkanBackend::run_unpool(const Tensor& y, const Tensor& switches, int k, Tensor& x) {
  impl_->run("unpool", {k}, {y, x, switches}, {x.count(), x.shape().h, x.shape().w}, linear(x.count()));
}

void VulkanBackend::run_unpool_backward(const Tensor& dx, const Tensor& switches, int k, Tensor& dy) {
  impl_->run("unpool_backward", {k}, {dx, dy, switches}, {dy.count(), dy.shape().h, dy.shape().w},
             linear(dy.count()));
}

void VulkanBackend::run_upsample(const Tensor& x, int k, Tensor& y) {
  impl_->run("upsample", {k}, {x, y}, {y.count(), y.shape().h, y.shape().w}, linear(y.count()));
}

void VulkanBackend::run_sum_pool(const Tensor& x, int k, Tensor& y) {
  impl_->run("sum_pool", {k}, {x, y}, {y.count(), y.shape().h, y.shape().w}, linear(y.count()));
}

void VulkanBackend::run_mean_pool(const Tensor& x, Tensor& y) {
  impl_->run("mean_pool", {}, {x, y}, {y.count(), x.shape().plane()}, linear(y.count()));
}

void VulkanBackend::run_mean_pool_backward(const Tensor& dy, Tensor& dx) {
  impl_->run("mean_pool_backward", {}, {dy, dx}, {dx.count(), dx.shape().plane()}, linear(dx.count()));
}

// ---- elementwise ----------------------------------------------------------------------

void VulkanBackend::run_relu(const Tensor& x, Tensor& y, Tensor& mask) {
  impl_->run("relu", {}, {x, y, mask}, {x.count()}, linear(x.count()));
}

void VulkanBackend::run_mul(const Tensor& a, const Tensor& b, Tensor& y) {
  impl_->run("mul", {}, {a, b, y}, {y.count()}, linear(y.count()));
}

void VulkanBackend::run_axpy(float alpha, const Tensor& x, Tensor& y) {
  impl_->run("axpy", {}, {x, y}, {y.count(), alpha}, linear(y.count()));
}

void VulkanBackend::run_scale(Tensor& y, float alpha) {
  impl_->run("scale", {}, {y}, {y.count(), alpha}, linear(y.count()));
}

// ---- batch normalisation --------------------------------------------------------------

void VulkanBackend::run_batchnorm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float momentum,
                                        float eps, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                        Tensor& saved_mean, Tensor& saved_inv_std) {
  const Shape& s = x.shape();
  impl_->run("batchnorm_stats", {}, {x, running_mean, running_var, saved_mean, saved_inv_std},
             {s.n, s.c, s.plane(), momentum, eps}, {uint32_t(s.c), 1, 1});
  impl_->run("batchnorm_apply", {0}, {x, gamma, beta, saved_mean, saved_inv_std, y}, {x.count(), s.c, s.plane(), eps},
             linear(x.count()));
}

void VulkanBackend::run_batchnorm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y) {
  const Shape& s = x.shape();
  impl_->run("batchnorm_apply", {1}, {x, gamma, beta, running_mean, running_var, y},
             {x.count(), s.c, s.plane(), eps}, linear(x.count()));
}

void VulkanBackend::run_batchnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                           const Tensor& saved_mean, const Tensor& saved_inv_std, Tensor& dx,
                                           Tensor& dgamma, Tensor& dbeta) {
  const Shape& s = x.shape();
  impl_->run("batchnorm_backward", {}, {dy, x, gamma, saved_mean, saved_inv_std, dx, dgamma, dbeta},
             {s.n, s.c, s.plane()}, {uint32_t(s.c), 1, 1});
}

// ---- classifier and losses ------------------------------------------------------------

void VulkanBackend::run_softmax(const Tensor& logits, Tensor& q) {
  const Shape& s = logits.shape();
  impl_->run("softmax", {}, {logits, q}, {s.n, s.per_image()}, linear(size_t(s.n)));
}

void VulkanBackend::run_cross_entropy(const Tensor& q, const Tensor& labels, float weight, Tensor& loss,
                                      Tensor& dlogits) {
  const Shape& s = q.shape();
  impl_->run("cross_entropy", {}, {q, labels, loss, dlogits}, {s.n, s.per_image(), weight}, {1, 1, 1});
}

void VulkanBackend::run_kl_loss(const Tensor& q, bool paper_sign, float weight, Tensor& loss, Tensor& dlogits) {
  const Shape& s = q.shape();
  impl_->run("kl_loss", {}, {q, loss, dlogits}, {s.n, s.per_image(), weight, paper_sign ? 1.0f : -1.0f},
             {1, 1, 1});
}

void VulkanBackend::run_reconstruction_loss(const Tensor& a, const Tensor& b, float weight, Tensor& loss, Tensor& da) {
  const float n = float(a.shape().n);
  impl_->summed_loss("reconstruction_loss", {a, b, da}, a.count(), 2.0f * weight / n, 1.0f / n, false, loss);
}

void VulkanBackend::run_nonnegativity_loss(const Tensor& z, float weight, Tensor& loss, Tensor& dz) {
  const float count = float(z.count());  // the mean over the level's elements (backend.h)
  impl_->summed_loss("nonnegativity_loss", {z, dz}, z.count(), 2.0f * weight / count, 1.0f / count, true, loss);
}

void VulkanBackend::run_rendering_prior(const Tensor& masked, const Tensor& mask, const Tensor& bias, float sign,
                                        float weight, Tensor& loss, Tensor& dz) {
  const Shape& s = masked.shape();
  const float count = float(masked.count());  // the mean over the level's elements (backend.h)
  impl_->summed_loss("rendering_prior", {masked, mask, bias, dz}, masked.count(), sign * weight / count, sign / count,
                     true, loss, {s.c, s.plane()});
}

void VulkanBackend::run_render_class_onehot(const Tensor& q, const Tensor& labels, bool use_labels, Tensor& onehot) {
  const Shape& s = q.shape();
  impl_->run("render_class_onehot", {}, {q, labels, onehot}, {s.n, s.per_image(), int(use_labels)},
             linear(size_t(s.n)));
}

// ---- statistics and optimisers --------------------------------------------------------

void VulkanBackend::run_batch_mean_ema(const Tensor& x, float decay, Tensor& ema) {
  impl_->run("batch_mean_ema", {}, {x, ema}, {ema.count(), x.shape().n, decay}, linear(ema.count()));
}

void VulkanBackend::run_sgd_step(Tensor& param, const Tensor& grad, Tensor& velocity, float lr, float momentum) {
  impl_->run("sgd_step", {}, {param, grad, velocity}, {param.count(), lr, momentum}, linear(param.count()));
}

void VulkanBackend::run_adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, float lr, float beta1,
                                  float beta2, float eps, int step) {
  const double bc1 = 1.0 - std::pow(double(beta1), step), bc2 = 1.0 - std::pow(double(beta2), step);
  impl_->run("adam_step", {}, {param, grad, m, v}, {param.count(), lr, beta1, beta2, eps, bc1, bc2},
             linear(param.count()));
}

}  // namespace drmm
