// Thin extern "C" layer over libtorch: every entry point converts handles,
// calls one ATen function and turns any exception into a message.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unistd.h>
#include <functional>
#include <map>
#include <mutex>
#include <dlfcn.h>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct CTTensorImpl {
  at::Tensor t;
};

namespace {
thread_local std::string last_error;
thread_local bool has_error = false;
// One slot per open capture scope, innermost last; a slot holds the first failure in its scope.
thread_local std::vector<std::pair<bool, std::string>> capture_stack;

void set_error(const char *msg) {
  last_error = msg ? msg : "unknown libtorch error";
  has_error = true;
}

CTTensor wrap(at::Tensor t) { return new CTTensorImpl{std::move(t)}; }

c10::optional<at::Tensor> opt(CTTensor t) {
  if (t == nullptr || !t->t.defined()) return c10::nullopt;
  return t->t;
}

at::Tensor def(CTTensor t) { return t ? t->t : at::Tensor(); }

at::IntArrayRef ref(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

at::ScalarType st(int code) { return static_cast<at::ScalarType>(code); }

at::TensorOptions options(int dtype, int device, int index) {
  auto o = at::TensorOptions().dtype(st(dtype));
  if (device == CT_CUDA) return o.device(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)));
  return o.device(at::kCPU);
}

int64_t reduction(int r) {
  switch (r) {
  case CT_REDUCE_NONE: return at::Reduction::None;
  case CT_REDUCE_SUM: return at::Reduction::Sum;
  default: return at::Reduction::Mean;
  }
}

// Integral tensors need integral scalars: libtorch refuses a floating alpha or scalar for them.
at::Scalar scalar_for(const at::Tensor &t, double v) {
  if (t.defined() && (at::isIntegralType(t.scalar_type(), /*includeBool=*/false)) && v == static_cast<double>(static_cast<int64_t>(v)))
    return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

char *dup(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}
} // namespace

#define CT_GUARD(fail, ...)                                                                                           \
  try {                                                                                                                \
    __VA_ARGS__                                                                                                        \
  } catch (const c10::Error &e) {                                                                                      \
    set_error(e.what_without_backtrace());                                                                             \
  } catch (const std::exception &e) {                                                                                  \
    set_error(e.what());                                                                                               \
  } catch (...) {                                                                                                      \
    set_error("unknown C++ exception in libtorch");                                                                    \
  }                                                                                                                    \
  return fail;

#define CT_TENSOR(...) CT_GUARD(nullptr, return wrap(__VA_ARGS__);)
#define CT_STATUS(...) CT_GUARD(-1, __VA_ARGS__; return 0;)

// Lets the OpenCV half of the shim report failures through the same channel.
void ct_internal_set_error(const char *msg) { set_error(msg); }

extern "C" {

// ---- errors -------------------------------------------------------------
const char *ct_last_error(void) { return has_error ? last_error.c_str() : nullptr; }
void ct_clear_error(void) {
  has_error = false;
  last_error.clear();
}
void ct_capture_begin(void) { capture_stack.emplace_back(false, std::string()); }
char *ct_capture_end(void) {
  if (capture_stack.empty()) return nullptr;
  auto top = std::move(capture_stack.back());
  capture_stack.pop_back();
  return top.first ? dup(top.second) : nullptr;
}
int ct_capture_depth(void) { return static_cast<int>(capture_stack.size()); }
void ct_capture_record(const char *message) {
  if (!capture_stack.empty() && !capture_stack.back().first) {
    capture_stack.back() = {true, message ? message : "unknown error"};
  }
}
void ct_free_string(char *s) { std::free(s); }

// ---- lifetime & introspection --------------------------------------------
void ct_free(CTTensor t) { delete t; }
CTTensor ct_undefined(void) { return wrap(at::Tensor()); }
int ct_defined(CTTensor t) { return t && t->t.defined() ? 1 : 0; }
int ct_ndim(CTTensor t) { return t->t.defined() ? static_cast<int>(t->t.dim()) : 0; }
int ct_shape(CTTensor t, int64_t *out) {
  CT_STATUS(auto s = t->t.sizes(); std::copy(s.begin(), s.end(), out))
}
int ct_strides(CTTensor t, int64_t *out) {
  CT_STATUS(auto s = t->t.strides(); std::copy(s.begin(), s.end(), out))
}
int ct_dtype(CTTensor t) { return t->t.defined() ? static_cast<int>(t->t.scalar_type()) : -1; }
int ct_device_type(CTTensor t) { return t->t.defined() && t->t.is_cuda() ? CT_CUDA : CT_CPU; }
int ct_device_index(CTTensor t) { return t->t.defined() && t->t.is_cuda() ? t->t.get_device() : 0; }
int64_t ct_numel(CTTensor t) { return t->t.defined() ? t->t.numel() : 0; }
int ct_requires_grad(CTTensor t) { return t->t.defined() && t->t.requires_grad() ? 1 : 0; }
int ct_is_contiguous(CTTensor t) { return t->t.defined() && t->t.is_contiguous() ? 1 : 0; }
int ct_item(CTTensor t, double *out) { CT_STATUS(*out = t->t.item<double>()) }
int ct_copy_to(CTTensor t, void *dst, size_t nbytes) {
  CT_STATUS({
    at::Tensor c = t->t.detach().to(at::kCPU).contiguous();
    size_t need = static_cast<size_t>(c.numel()) * c.element_size();
    TORCH_CHECK(need == nbytes, "buffer holds ", nbytes, " bytes but the tensor needs ", need);
    if (need) std::memcpy(dst, c.data_ptr(), need);
  })
}
int64_t ct_element_size(int dtype) { return static_cast<int64_t>(c10::elementSize(st(dtype))); }

// ---- creation -----------------------------------------------------------
CTTensor ct_empty(const int64_t *shape, int ndim, int dtype, int device, int index) {
  CT_TENSOR(at::empty(ref(shape, ndim), options(dtype, device, index)))
}
CTTensor ct_zeros(const int64_t *shape, int ndim, int dtype, int device, int index) {
  CT_TENSOR(at::zeros(ref(shape, ndim), options(dtype, device, index)))
}
CTTensor ct_ones(const int64_t *shape, int ndim, int dtype, int device, int index) {
  CT_TENSOR(at::ones(ref(shape, ndim), options(dtype, device, index)))
}
CTTensor ct_full(const int64_t *shape, int ndim, double value, int dtype, int device, int index) {
  CT_TENSOR(at::full(ref(shape, ndim), value, options(dtype, device, index)))
}
CTTensor ct_rand(const int64_t *shape, int ndim, int dtype, int device, int index) {
  CT_TENSOR(at::rand(ref(shape, ndim), options(dtype, device, index)))
}
CTTensor ct_randn(const int64_t *shape, int ndim, int dtype, int device, int index) {
  CT_TENSOR(at::randn(ref(shape, ndim), options(dtype, device, index)))
}
CTTensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, int dtype, int device, int index) {
  CT_TENSOR(at::randint(low, high, ref(shape, ndim), options(dtype, device, index)))
}
CTTensor ct_randperm(int64_t n, int device, int index) { CT_TENSOR(at::randperm(n, options(CT_INT64, device, index))) }
CTTensor ct_arange(double start, double end, double step, int dtype, int device, int index) {
  CT_TENSOR(at::arange(start, end, step, options(dtype, device, index)))
}
CTTensor ct_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim, int dtype) {
  CT_GUARD(nullptr, {
    at::Tensor t = at::empty(ref(shape, ndim), options(dtype, CT_CPU, 0));
    size_t need = static_cast<size_t>(t.numel()) * t.element_size();
    TORCH_CHECK(need == nbytes, "shape needs ", need, " bytes but ", nbytes, " were given");
    if (need) std::memcpy(t.data_ptr(), data, need);
    return wrap(t);
  })
}

// ---- conversion -------------------------------------------------------------
CTTensor ct_to_dtype(CTTensor t, int dtype) { CT_TENSOR(t->t.to(st(dtype))) }
CTTensor ct_to_device(CTTensor t, int device, int index) {
  CT_TENSOR(t->t.to(device == CT_CUDA ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)) : at::Device(at::kCPU)))
}
CTTensor ct_clone(CTTensor t) { CT_TENSOR(t->t.clone()) }
CTTensor ct_contiguous(CTTensor t) { CT_TENSOR(t->t.contiguous()) }
CTTensor ct_detach(CTTensor t) { CT_TENSOR(t->t.detach()) }
CTTensor ct_alias(CTTensor t) { CT_TENSOR(t->t) }

// ---- shape ------------------------------------------------------------------
CTTensor ct_reshape(CTTensor t, const int64_t *shape, int ndim) { CT_TENSOR(t->t.reshape(ref(shape, ndim))) }
CTTensor ct_permute(CTTensor t, const int64_t *dims, int ndim) { CT_TENSOR(t->t.permute(ref(dims, ndim))) }
CTTensor ct_transpose(CTTensor t, int64_t d0, int64_t d1) { CT_TENSOR(t->t.transpose(d0, d1)) }
CTTensor ct_expand(CTTensor t, const int64_t *shape, int ndim) { CT_TENSOR(t->t.expand(ref(shape, ndim))) }
CTTensor ct_repeat(CTTensor t, const int64_t *repeats, int ndim) { CT_TENSOR(t->t.repeat(ref(repeats, ndim))) }
CTTensor ct_flip(CTTensor t, const int64_t *dims, int ndim) { CT_TENSOR(t->t.flip(ref(dims, ndim))) }
CTTensor ct_squeeze(CTTensor t, int64_t dim) { CT_TENSOR(t->t.squeeze(dim)) }
CTTensor ct_unsqueeze(CTTensor t, int64_t dim) { CT_TENSOR(t->t.unsqueeze(dim)) }
CTTensor ct_cat(const CTTensor *ts, int n, int64_t dim) {
  CT_GUARD(nullptr, {
    std::vector<at::Tensor> v;
    for (int i = 0; i < n; i++) v.push_back(ts[i]->t);
    return wrap(at::cat(v, dim));
  })
}
CTTensor ct_stack(const CTTensor *ts, int n, int64_t dim) {
  CT_GUARD(nullptr, {
    std::vector<at::Tensor> v;
    for (int i = 0; i < n; i++) v.push_back(ts[i]->t);
    return wrap(at::stack(v, dim));
  })
}
CTTensor ct_slice(CTTensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  CT_TENSOR(t->t.slice(dim, start, end, step))
}
CTTensor ct_select(CTTensor t, int64_t dim, int64_t index) { CT_TENSOR(t->t.select(dim, index)) }
CTTensor ct_index_select(CTTensor t, int64_t dim, CTTensor index) { CT_TENSOR(t->t.index_select(dim, index->t)) }
CTTensor ct_pad_constant(CTTensor t, const int64_t *pad, int npad, double value) {
  CT_TENSOR(at::constant_pad_nd(t->t, ref(pad, npad), value))
}
CTTensor ct_pad_reflect(CTTensor t, const int64_t *pad, int npad) {
  CT_GUARD(nullptr, {
    TORCH_CHECK(npad == 2 || npad == 4 || npad == 6, "reflect padding takes 2, 4 or 6 values, got ", npad);
    if (npad == 2) return wrap(at::reflection_pad1d(t->t, ref(pad, npad)));
    if (npad == 4) {
      const at::Tensor &x = t->t;
      // libtorch 1.13 has no bfloat16 reflection padding, and its autocast runs the op in
      // float32, costing two casts per padded convolution. For bfloat16 input the same result
      // is put together from mirrored slices (autograd sums the gradients back the same way).
      bool mirror = x.scalar_type() == at::kBFloat16 && x.dim() == 4 && pad[0] >= 0 && pad[1] >= 0 && pad[2] >= 0 &&
                    pad[3] >= 0 && pad[0] < x.size(3) && pad[1] < x.size(3) && pad[2] < x.size(2) && pad[3] < x.size(2);
      if (!mirror) return wrap(at::reflection_pad2d(x, ref(pad, npad)));
      at::Tensor y = x;
      for (int d = 0; d < 2; d++) {
        int64_t dim = 3 - d, before = pad[2 * d], after = pad[2 * d + 1], n = y.size(dim);
        std::vector<at::Tensor> parts;
        if (before > 0) parts.push_back(y.narrow(dim, 1, before).flip({dim}));
        parts.push_back(y);
        if (after > 0) parts.push_back(y.narrow(dim, n - 1 - after, after).flip({dim}));
        if (parts.size() > 1) y = at::cat(parts, dim);
      }
      return wrap(y);
    }
    return wrap(at::reflection_pad3d(t->t, ref(pad, npad)));
  })
}
CTTensor ct_pad_replicate(CTTensor t, const int64_t *pad, int npad) {
  CT_GUARD(nullptr, {
    TORCH_CHECK(npad == 2 || npad == 4 || npad == 6, "replicate padding takes 2, 4 or 6 values, got ", npad);
    if (npad == 2) return wrap(at::replication_pad1d(t->t, ref(pad, npad)));
    if (npad == 4) return wrap(at::replication_pad2d(t->t, ref(pad, npad)));
    return wrap(at::replication_pad3d(t->t, ref(pad, npad)));
  })
}

// ---- element-wise -------------------------------------------------------------
CTTensor ct_add(CTTensor a, CTTensor b, double alpha) { CT_TENSOR(at::add(a->t, b->t, scalar_for(a->t, alpha))) }
CTTensor ct_sub(CTTensor a, CTTensor b, double alpha) { CT_TENSOR(at::sub(a->t, b->t, scalar_for(a->t, alpha))) }
CTTensor ct_mul(CTTensor a, CTTensor b) { CT_TENSOR(at::mul(a->t, b->t)) }
CTTensor ct_div(CTTensor a, CTTensor b) { CT_TENSOR(at::div(a->t, b->t)) }
CTTensor ct_pow(CTTensor a, CTTensor b) { CT_TENSOR(at::pow(a->t, b->t)) }
CTTensor ct_maximum(CTTensor a, CTTensor b) { CT_TENSOR(at::maximum(a->t, b->t)) }
CTTensor ct_minimum(CTTensor a, CTTensor b) { CT_TENSOR(at::minimum(a->t, b->t)) }
CTTensor ct_add_scalar(CTTensor a, double s) { CT_TENSOR(at::add(a->t, scalar_for(a->t, s))) }
CTTensor ct_mul_scalar(CTTensor a, double s) { CT_TENSOR(at::mul(a->t, scalar_for(a->t, s))) }
CTTensor ct_div_scalar(CTTensor a, double s) { CT_TENSOR(at::div(a->t, s)) }
CTTensor ct_rsub_scalar(CTTensor a, double s) { CT_TENSOR(at::rsub(a->t, scalar_for(a->t, s))) }
CTTensor ct_rdiv_scalar(CTTensor a, double s) { CT_TENSOR(at::reciprocal(a->t) * s) }
CTTensor ct_pow_scalar(CTTensor a, double s) { CT_TENSOR(at::pow(a->t, s)) }
CTTensor ct_eq(CTTensor a, CTTensor b) { CT_TENSOR(at::eq(a->t, b->t)) }
CTTensor ct_ne(CTTensor a, CTTensor b) { CT_TENSOR(at::ne(a->t, b->t)) }
CTTensor ct_lt(CTTensor a, CTTensor b) { CT_TENSOR(at::lt(a->t, b->t)) }
CTTensor ct_le(CTTensor a, CTTensor b) { CT_TENSOR(at::le(a->t, b->t)) }
CTTensor ct_gt(CTTensor a, CTTensor b) { CT_TENSOR(at::gt(a->t, b->t)) }
CTTensor ct_ge(CTTensor a, CTTensor b) { CT_TENSOR(at::ge(a->t, b->t)) }
CTTensor ct_eq_scalar(CTTensor a, double s) { CT_TENSOR(at::eq(a->t, s)) }
CTTensor ct_lt_scalar(CTTensor a, double s) { CT_TENSOR(at::lt(a->t, s)) }
CTTensor ct_gt_scalar(CTTensor a, double s) { CT_TENSOR(at::gt(a->t, s)) }
CTTensor ct_where(CTTensor cond, CTTensor a, CTTensor b) { CT_TENSOR(at::where(cond->t, a->t, b->t)) }
CTTensor ct_logical_not(CTTensor a) { CT_TENSOR(at::logical_not(a->t)) }
CTTensor ct_neg(CTTensor a) { CT_TENSOR(at::neg(a->t)) }
CTTensor ct_abs(CTTensor a) { CT_TENSOR(at::abs(a->t)) }
CTTensor ct_exp(CTTensor a) { CT_TENSOR(at::exp(a->t)) }
CTTensor ct_log(CTTensor a) { CT_TENSOR(at::log(a->t)) }
CTTensor ct_log1p(CTTensor a) { CT_TENSOR(at::log1p(a->t)) }
CTTensor ct_sqrt(CTTensor a) { CT_TENSOR(at::sqrt(a->t)) }
CTTensor ct_rsqrt(CTTensor a) { CT_TENSOR(at::rsqrt(a->t)) }
CTTensor ct_square(CTTensor a) { CT_TENSOR(at::square(a->t)) }
CTTensor ct_sin(CTTensor a) { CT_TENSOR(at::sin(a->t)) }
CTTensor ct_cos(CTTensor a) { CT_TENSOR(at::cos(a->t)) }
CTTensor ct_sign(CTTensor a) { CT_TENSOR(at::sign(a->t)) }
CTTensor ct_floor(CTTensor a) { CT_TENSOR(at::floor(a->t)) }
CTTensor ct_ceil(CTTensor a) { CT_TENSOR(at::ceil(a->t)) }
CTTensor ct_round(CTTensor a) { CT_TENSOR(at::round(a->t)) }
CTTensor ct_clamp(CTTensor a, double lo, double hi, int has_lo, int has_hi) {
  CT_TENSOR(at::clamp(a->t, has_lo ? c10::optional<at::Scalar>(lo) : c10::nullopt,
                      has_hi ? c10::optional<at::Scalar>(hi) : c10::nullopt))
}
CTTensor ct_lerp(CTTensor a, CTTensor b, double weight) { CT_TENSOR(at::lerp(a->t, b->t, weight)) }

// ---- activations ----------------------------------------------------------------
CTTensor ct_relu(CTTensor a) { CT_TENSOR(at::relu(a->t)) }
CTTensor ct_leaky_relu(CTTensor a, double slope) { CT_TENSOR(at::leaky_relu(a->t, slope)) }
CTTensor ct_sigmoid(CTTensor a) { CT_TENSOR(at::sigmoid(a->t)) }
CTTensor ct_tanh(CTTensor a) { CT_TENSOR(at::tanh(a->t)) }
CTTensor ct_softplus(CTTensor a, double beta, double threshold) { CT_TENSOR(at::softplus(a->t, beta, threshold)) }
CTTensor ct_softmax(CTTensor a, int64_t dim) { CT_TENSOR(at::softmax(a->t, dim)) }
CTTensor ct_log_softmax(CTTensor a, int64_t dim) { CT_TENSOR(at::log_softmax(a->t, dim)) }

// ---- reductions ----------------------------------------------------------------
CTTensor ct_sum(CTTensor a, const int64_t *dims, int ndims, int keepdim) {
  CT_TENSOR(ndims == 0 ? at::sum(a->t) : at::sum(a->t, ref(dims, ndims), keepdim != 0))
}
CTTensor ct_mean(CTTensor a, const int64_t *dims, int ndims, int keepdim) {
  CT_TENSOR(ndims == 0 ? at::mean(a->t) : at::mean(a->t, ref(dims, ndims), keepdim != 0))
}
CTTensor ct_amax(CTTensor a, const int64_t *dims, int ndims, int keepdim) {
  CT_TENSOR(at::amax(a->t, ref(dims, ndims), keepdim != 0))
}
CTTensor ct_amin(CTTensor a, const int64_t *dims, int ndims, int keepdim) {
  CT_TENSOR(at::amin(a->t, ref(dims, ndims), keepdim != 0))
}
CTTensor ct_var(CTTensor a, const int64_t *dims, int ndims, int64_t correction, int keepdim) {
  CT_TENSOR(at::var(a->t, ndims == 0 ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(ref(dims, ndims)),
                    c10::optional<int64_t>(correction), keepdim != 0))
}
CTTensor ct_std(CTTensor a, const int64_t *dims, int ndims, int64_t correction, int keepdim) {
  CT_TENSOR(at::std(a->t, ndims == 0 ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(ref(dims, ndims)),
                    c10::optional<int64_t>(correction), keepdim != 0))
}
CTTensor ct_norm(CTTensor a, double p, const int64_t *dims, int ndims, int keepdim) {
  CT_TENSOR(ndims == 0 ? at::norm(a->t, p) : at::norm(a->t, p, ref(dims, ndims), keepdim != 0))
}
CTTensor ct_logsumexp(CTTensor a, const int64_t *dims, int ndims, int keepdim) {
  CT_TENSOR(at::logsumexp(a->t, ref(dims, ndims), keepdim != 0))
}
CTTensor ct_argmax(CTTensor a, int64_t dim, int keepdim) { CT_TENSOR(at::argmax(a->t, dim, keepdim != 0)) }
CTTensor ct_argmin(CTTensor a, int64_t dim, int keepdim) { CT_TENSOR(at::argmin(a->t, dim, keepdim != 0)) }

// ---- linear algebra -----------------------------------------------------------
CTTensor ct_matmul(CTTensor a, CTTensor b) { CT_TENSOR(at::matmul(a->t, b->t)) }
CTTensor ct_mv(CTTensor a, CTTensor b) { CT_TENSOR(at::mv(a->t, b->t)) }
CTTensor ct_dot(CTTensor a, CTTensor b) { CT_TENSOR(at::dot(a->t, b->t)) }
CTTensor ct_linalg_eigh(CTTensor a, CTTensor *eigenvectors) {
  CT_GUARD(nullptr, {
    auto result = at::linalg_eigh(a->t, "L");
    *eigenvectors = wrap(std::get<1>(result));
    return wrap(std::get<0>(result));
  })
}

// ---- neural-network functions ----------------------------------------------------
CTTensor ct_conv2d(CTTensor x, CTTensor w, CTTensor b, const int64_t *stride, const int64_t *padding,
                   const int64_t *dilation, int64_t groups) {
  CT_TENSOR(at::conv2d(x->t, w->t, opt(b), ref(stride, 2), ref(padding, 2), ref(dilation, 2), groups))
}
// libtorch 1.13 runs CPU transposed convolutions on its slow im2col path (no oneDNN backend).
// A transposed convolution is the input gradient of the ordinary convolution with the same
// weight, so it is computed here by oneDNN's backward-data kernel; its own backward is an
// ordinary convolution (input gradient) and an ordinary weight gradient, also oneDNN's.
// Same function, sums in another order: results agree to float rounding.
namespace {

struct OneDNNConvTranspose2d : public torch::autograd::Function<OneDNNConvTranspose2d> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, const at::Tensor &w,
                            const at::Tensor &b, std::vector<int64_t> stride, std::vector<int64_t> padding,
                            std::vector<int64_t> output_padding, std::vector<int64_t> dilation, int64_t groups) {
    std::vector<int64_t> out_size{x.size(0), w.size(1) * groups, 0, 0};
    for (int i = 0; i < 2; i++)
      out_size[2 + i] = (x.size(2 + i) - 1) * stride[i] - 2 * padding[i] + dilation[i] * (w.size(2 + i) - 1) +
                        output_padding[i] + 1;
    // Only the shape of the "input" is read by the backward-data kernel.
    at::Tensor shape_only = at::empty(out_size, x.options());
    std::vector<int64_t> zero{0, 0};
    at::Tensor y = std::get<0>(at::convolution_backward(x.contiguous(), shape_only, w, c10::nullopt, stride, padding,
                                                        dilation, false, zero, groups, {true, false, false}));
    bool has_bias = b.numel() > 0;
    if (has_bias) y.add_(b.view({1, -1, 1, 1}));
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["bias"] = has_bias;
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx,
                                               torch::autograd::tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1];
    at::Tensor gy = grads[0].contiguous();
    auto stride = ctx->saved_data["stride"].toIntVector();
    auto padding = ctx->saved_data["padding"].toIntVector();
    auto dilation = ctx->saved_data["dilation"].toIntVector();
    int64_t groups = ctx->saved_data["groups"].toInt();
    std::vector<int64_t> zero{0, 0};
    at::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0))
      gx = at::convolution(gy, w, c10::nullopt, stride, padding, dilation, false, zero, groups);
    if (ctx->needs_input_grad(1))
      gw = std::get<1>(at::convolution_backward(x.contiguous(), gy, w, c10::nullopt, stride, padding, dilation, false,
                                                zero, groups, {false, true, false}));
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) gb = gy.sum({0, 2, 3});
    return {gx, gw, gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// Which path wins depends on the processor and the shape: oneDNN's backward-data kernel beat the
// im2col path on an Intel Xeon, and lost to it on an AMD EPYC (Zen 4) for pix2pix's layers. So
// by default (mode "measure") the first call of each shape times both paths' forward passes on
// the very tensors it was given and keeps the faster for the rest of the process; the key holds
// everything the time depends on: shapes, strides, dtype, threads.
std::atomic<int> transposed_mode{CT_TRANSPOSED_MEASURE};
std::mutex transposed_choice_mutex;
std::map<std::string, bool> transposed_choice;  // key → oneDNN path faster
std::atomic<int64_t> transposed_measurements{0};
// Where the choices persist between processes (empty: nowhere), so that every run on one
// machine takes the same path per shape and a resumed run computes exactly what it would have.
std::string transposed_cache_path;

// Lines "key onednn|im2col". Caller holds the mutex.
void load_transposed_cache() {
  std::ifstream in(transposed_cache_path);
  std::string key, choice;
  while (in >> key >> choice) {
    if (choice == "onednn" || choice == "im2col") transposed_choice.emplace(key, choice == "onednn");
  }
}

// Written whole to a temporary file, then renamed over the cache. Caller holds the mutex.
void save_transposed_cache() {
  if (transposed_cache_path.empty()) return;
  std::string tmp = transposed_cache_path + ".tmp." + std::to_string(static_cast<long>(getpid()));
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto &kv : transposed_choice) out << kv.first << " " << (kv.second ? "onednn" : "im2col") << "\n";
    if (!out) { std::remove(tmp.c_str()); return; }
  }
  if (std::rename(tmp.c_str(), transposed_cache_path.c_str()) != 0) std::remove(tmp.c_str());
}

std::string transposed_key(const at::Tensor &x, const at::Tensor &w, const int64_t *stride, const int64_t *padding,
                           const int64_t *output_padding, int64_t groups, const int64_t *dilation) {
  std::string key;
  for (auto v : x.sizes()) key += std::to_string(v) + ",";
  key += "|";
  for (auto v : w.sizes()) key += std::to_string(v) + ",";
  for (int i = 0; i < 2; i++)
    key += "|" + std::to_string(stride[i]) + "," + std::to_string(padding[i]) + "," + std::to_string(output_padding[i]) + "," +
           std::to_string(dilation[i]);
  key += "|" + std::to_string(groups) + "|" + std::to_string(static_cast<int>(x.scalar_type())) + "|" +
         std::to_string(at::get_num_threads());
  return key;
}

double best_seconds(const std::function<at::Tensor()> &f, int runs) {
  double best = 1e30;
  for (int i = 0; i < runs; i++) {
    auto start = std::chrono::steady_clock::now();
    (void)f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}
} // namespace

void ct_set_fast_transposed_convolution(int on) { transposed_mode = on != 0 ? CT_TRANSPOSED_ONEDNN : CT_TRANSPOSED_IM2COL; }
int ct_fast_transposed_convolution(void) { return transposed_mode != CT_TRANSPOSED_IM2COL ? 1 : 0; }
void ct_set_transposed_convolution_mode(int mode) { transposed_mode = mode; }
int ct_transposed_convolution_mode(void) { return transposed_mode; }
int64_t ct_transposed_convolution_measurements(void) { return transposed_measurements; }
void ct_transposed_convolution_forget(void) {
  std::lock_guard<std::mutex> lock(transposed_choice_mutex);
  transposed_choice.clear();
}
int ct_set_transposed_convolution_cache(const char *path) {
  std::lock_guard<std::mutex> lock(transposed_choice_mutex);
  transposed_cache_path = path ? path : "";
  if (!transposed_cache_path.empty()) load_transposed_cache();
  return static_cast<int>(transposed_choice.size());
}
int ct_transposed_convolution_choices(int *onednn, int *im2col) {
  std::lock_guard<std::mutex> lock(transposed_choice_mutex);
  int a = 0, b = 0;
  for (auto &kv : transposed_choice) (kv.second ? a : b)++;
  *onednn = a;
  *im2col = b;
  return a + b;
}

CTTensor ct_conv_transpose2d(CTTensor x, CTTensor w, CTTensor b, const int64_t *stride, const int64_t *padding,
                             const int64_t *output_padding, int64_t groups, const int64_t *dilation) {
  CT_GUARD(nullptr, {
    at::Tensor input = x->t, weight = w->t;
    at::Tensor bias = b ? b->t : at::Tensor();
    // PyTorch 1.13's CPU autocast runs transposed convolutions in float32; the oneDNN path
    // below runs them in the autocast dtype like every other convolution (weights through
    // the autocast cache), since it is an ordinary convolution's backward-data kernel.
    int mode = transposed_mode;
    if (at::autocast::is_cpu_enabled() && input.device().is_cpu() && mode != CT_TRANSPOSED_IM2COL) {
      auto low = at::autocast::get_autocast_cpu_dtype();
      input = at::autocast::cached_cast(low, input, c10::DeviceType::CPU);
      weight = at::autocast::cached_cast(low, weight, c10::DeviceType::CPU);
      if (bias.defined()) bias = at::autocast::cached_cast(low, bias, c10::DeviceType::CPU);
    }
    bool low_precision = input.scalar_type() == at::kBFloat16 && weight.scalar_type() == at::kBFloat16;
    bool fast = mode != CT_TRANSPOSED_IM2COL && input.device().is_cpu() &&
                ((input.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat) || low_precision) &&
                input.dim() == 4 && input.layout() == at::kStrided &&
                weight.layout() == at::kStrided && at::globalContext().userEnabledMkldnn();
    for (int i = 0; i < 2 && fast; i++) fast = output_padding[i] < stride[i] || output_padding[i] < dilation[i];
    auto onednn = [&] {
      // Autograd functions take no undefined tensors: an empty one stands for "no bias".
      return OneDNNConvTranspose2d::apply(input, weight, bias.defined() ? bias : at::empty({0}, weight.options()),
                                          std::vector<int64_t>(stride, stride + 2), std::vector<int64_t>(padding, padding + 2),
                                          std::vector<int64_t>(output_padding, output_padding + 2),
                                          std::vector<int64_t>(dilation, dilation + 2), groups);
    };
    auto im2col = [&] {
      return at::conv_transpose2d(input, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt, ref(stride, 2),
                                  ref(padding, 2), ref(output_padding, 2), groups, ref(dilation, 2));
    };
    if (fast && mode == CT_TRANSPOSED_MEASURE) {
      std::string key = transposed_key(input, weight, stride, padding, output_padding, groups, dilation);
      bool known = false;
      {
        std::lock_guard<std::mutex> lock(transposed_choice_mutex);
        auto it = transposed_choice.find(key);
        if (it != transposed_choice.end()) { known = true; fast = it->second; }
      }
      if (!known) {
        // One warm-up and the best of three forward passes each, without autograd.
        double t_onednn, t_im2col;
        {
          at::NoGradGuard no_grad;
          t_onednn = best_seconds(onednn, 4);
          t_im2col = best_seconds(im2col, 4);
        }
        fast = t_onednn <= t_im2col;
        transposed_measurements++;
        std::lock_guard<std::mutex> lock(transposed_choice_mutex);
        // Another thread may have measured the same shape meanwhile: the first answer stays.
        auto inserted = transposed_choice.emplace(key, fast);
        fast = inserted.first->second;
        if (inserted.second) save_transposed_cache();
      }
    }
    return wrap(fast ? onednn() : im2col());
  })
}
CTTensor ct_linear(CTTensor x, CTTensor w, CTTensor b) { CT_TENSOR(at::linear(x->t, w->t, opt(b))) }
CTTensor ct_group_norm(CTTensor x, int64_t groups, CTTensor w, CTTensor b, double eps) {
  CT_TENSOR(at::group_norm(x->t, groups, opt(w), opt(b), eps, at::globalContext().userEnabledCuDNN()))
}
CTTensor ct_batch_norm(CTTensor x, CTTensor w, CTTensor b, CTTensor running_mean, CTTensor running_var, int training,
                       double momentum, double eps) {
  CT_TENSOR(at::batch_norm(x->t, opt(w), opt(b), opt(running_mean), opt(running_var), training != 0, momentum, eps,
                           at::globalContext().userEnabledCuDNN()))
}
CTTensor ct_instance_norm(CTTensor x, CTTensor w, CTTensor b, CTTensor running_mean, CTTensor running_var,
                          int use_input_stats, double momentum, double eps) {
  CT_TENSOR(at::instance_norm(x->t, opt(w), opt(b), opt(running_mean), opt(running_var), use_input_stats != 0,
                              momentum, eps, at::globalContext().userEnabledCuDNN()))
}
CTTensor ct_avg_pool2d(CTTensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, int ceil_mode,
                       int count_include_pad) {
  CT_TENSOR(at::avg_pool2d(x->t, ref(kernel, 2), ref(stride, 2), ref(padding, 2), ceil_mode != 0,
                           count_include_pad != 0))
}
CTTensor ct_max_pool2d(CTTensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                       const int64_t *dilation, int ceil_mode) {
  CT_TENSOR(at::max_pool2d(x->t, ref(kernel, 2), ref(stride, 2), ref(padding, 2), ref(dilation, 2), ceil_mode != 0))
}
CTTensor ct_adaptive_avg_pool2d(CTTensor x, const int64_t *output_size) {
  CT_TENSOR(at::adaptive_avg_pool2d(x->t, ref(output_size, 2)))
}
CTTensor ct_adaptive_max_pool2d(CTTensor x, const int64_t *output_size) {
  CT_TENSOR(std::get<0>(at::adaptive_max_pool2d(x->t, ref(output_size, 2))))
}
CTTensor ct_upsample_nearest2d(CTTensor x, const int64_t *output_size, double scale_h, double scale_w) {
  CT_TENSOR(at::upsample_nearest2d(x->t, ref(output_size, 2),
                                   scale_h > 0 ? c10::optional<double>(scale_h) : c10::nullopt,
                                   scale_w > 0 ? c10::optional<double>(scale_w) : c10::nullopt))
}
CTTensor ct_upsample_bilinear2d(CTTensor x, const int64_t *output_size, int align_corners, double scale_h,
                                double scale_w) {
  CT_TENSOR(at::upsample_bilinear2d(x->t, ref(output_size, 2), align_corners != 0,
                                    scale_h > 0 ? c10::optional<double>(scale_h) : c10::nullopt,
                                    scale_w > 0 ? c10::optional<double>(scale_w) : c10::nullopt))
}
CTTensor ct_dropout(CTTensor x, double p, int train) { CT_TENSOR(at::dropout(x->t, p, train != 0)) }
CTTensor ct_l1_loss(CTTensor x, CTTensor y, int r) { CT_TENSOR(at::l1_loss(x->t, y->t, reduction(r))) }
CTTensor ct_mse_loss(CTTensor x, CTTensor y, int r) { CT_TENSOR(at::mse_loss(x->t, y->t, reduction(r))) }
CTTensor ct_bce_with_logits(CTTensor x, CTTensor y, CTTensor weight, CTTensor pos_weight, int r) {
  CT_TENSOR(at::binary_cross_entropy_with_logits(x->t, y->t, opt(weight), opt(pos_weight), reduction(r)))
}

// ---- in-place -------------------------------------------------------------------
int ct_add_(CTTensor t, CTTensor other, double alpha) { CT_STATUS(t->t.add_(other->t, scalar_for(t->t, alpha))) }
int ct_mul_(CTTensor t, CTTensor other) { CT_STATUS(t->t.mul_(other->t)) }
int ct_add_scalar_(CTTensor t, double s) { CT_STATUS(t->t.add_(scalar_for(t->t, s))) }
int ct_mul_scalar_(CTTensor t, double s) { CT_STATUS(t->t.mul_(scalar_for(t->t, s))) }
int ct_addcmul_(CTTensor t, CTTensor a, CTTensor b, double value) { CT_STATUS(t->t.addcmul_(a->t, b->t, value)) }
int ct_addcdiv_(CTTensor t, CTTensor a, CTTensor b, double value) { CT_STATUS(t->t.addcdiv_(a->t, b->t, value)) }

// One Adam update of a parameter in a single pass over p, g, m and v, instead of the eight
// passes (and two temporaries) of the op-by-op form. Each element follows libtorch's kernels'
// float operations: g·(1 − β1) + m·β1 as add with alpha, (1 − β2)·g·g + v·β2 as addcmul (each a
// fused multiply-add on the kernel paths that fuse them), √v / √bc2 + ε, p + ((−lr/bc1)·m) /
// denom as addcdiv — so the two agree to the last bit on every kernel path (FusedAdamTests). Dense float32 CPU tensors only;
// returns 1 without touching anything for others.
namespace {
// Whether libtorch's vectorised kernels fuse a multiply and an add into one rounding. They do
// on the AVX2 and AVX-512 kernel paths, which are compiled with FMA; the DEFAULT path
// (ATEN_CPU_CAPABILITY=default, or a CPU without AVX2) rounds the product first. Found once
// by running add(alpha) on values where the two differ: b·α − 1 = 2⁻¹¹ + 2⁻²⁴ exactly, and
// 2⁻¹¹ when b·α is rounded to float first.
bool kernels_fuse_multiply_add() {
  static const bool fused = [] {
    c10::InferenceMode guard;
    at::Tensor a = at::full({64}, -1.0f, at::kFloat);
    const float b = 1.0f + 0x1p-12f;
    a.add_(at::full({64}, b, at::kFloat), b);
    return a[0].item<float>() != 0x1p-11f;
  }();
  return fused;
}

void adam_update(bool fused_multiply_add, float *pp, float *mp, float *vp, const float *gp, int64_t begin, int64_t end,
                 float b1, float a1, float b2, float a2, float bc2_sqrt, float step_size, float e) {
#pragma clang fp contract(off)
  for (int64_t i = begin; i < end; i++) {
    const float gi = gp[i];
    const float mb = mp[i] * b1, vb = vp[i] * b2, ag = a2 * gi;
    const float mi = fused_multiply_add ? std::fma(gi, a1, mb) : gi * a1 + mb;
    const float vi = fused_multiply_add ? std::fma(ag, gi, vb) : ag * gi + vb;
    const float denom = std::sqrt(vi) / bc2_sqrt + e;
    mp[i] = mi;
    vp[i] = vi;
    pp[i] = pp[i] + (step_size * mi) / denom;
  }
}
} // namespace

int ct_adam_step_(CTTensor param, CTTensor grad, CTTensor exp_avg, CTTensor exp_avg_sq, double lr, double beta1,
                  double beta2, double eps, int64_t step) {
  CT_GUARD(-1, {
    at::Tensor &p = param->t, &m = exp_avg->t, &v = exp_avg_sq->t;
    const at::Tensor &g = grad->t;
    const at::Tensor *all[] = {&p, &g, &m, &v};
    for (const at::Tensor *t : all)
      if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || !t->is_contiguous() || t->numel() != p.numel())
        return 1;
    const float b1 = static_cast<float>(beta1), a1 = static_cast<float>(1 - beta1);
    const float b2 = static_cast<float>(beta2), a2 = static_cast<float>(1 - beta2);
    const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
    const float bc2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(beta2, static_cast<double>(step))));
    const float step_size = static_cast<float>(-(lr / bc1)), e = static_cast<float>(eps);
    float *pp = p.data_ptr<float>(), *mp = m.data_ptr<float>(), *vp = v.data_ptr<float>();
    const float *gp = g.data_ptr<float>();
    const bool fused = kernels_fuse_multiply_add();
    at::parallel_for(0, p.numel(), 32768, [&](int64_t begin, int64_t end) {
      adam_update(fused, pp, mp, vp, gp, begin, end, b1, a1, b2, a2, bc2_sqrt, step_size, e);
    });
    return 0;
  })
}
int ct_copy_(CTTensor dst, CTTensor src) { CT_STATUS(dst->t.copy_(src->t)) }
int ct_zero_(CTTensor t) { CT_STATUS(t->t.zero_()) }
int ct_fill_(CTTensor t, double value) { CT_STATUS(t->t.fill_(value)) }
int ct_normal_(CTTensor t, double mean, double std) { CT_STATUS(t->t.normal_(mean, std)) }
int ct_uniform_(CTTensor t, double lo, double hi) { CT_STATUS(t->t.uniform_(lo, hi)) }
int ct_clamp_(CTTensor t, double lo, double hi) { CT_STATUS(t->t.clamp_(lo, hi)) }

// ---- autograd -------------------------------------------------------------------
int ct_set_requires_grad(CTTensor t, int flag) { CT_STATUS(t->t.requires_grad_(flag != 0)) }
int ct_backward(CTTensor t, CTTensor grad, int retain_graph, int create_graph) {
  CT_STATUS(t->t.backward(def(grad), retain_graph ? c10::optional<bool>(true) : c10::optional<bool>(false),
                          create_graph != 0))
}
CTTensor ct_grad(CTTensor t) { CT_TENSOR(t->t.grad()) }
int ct_set_grad(CTTensor t, CTTensor grad) { CT_STATUS(t->t.mutable_grad() = def(grad)) }
int ct_zero_grad(CTTensor t) { CT_STATUS(t->t.mutable_grad().reset()) }
int ct_autograd_grad(const CTTensor *outputs, int nout, const CTTensor *grad_outputs, const CTTensor *inputs, int nin,
                     int retain_graph, int create_graph, int allow_unused, CTTensor *out) {
  CT_STATUS({
    std::vector<at::Tensor> o, go, in;
    for (int i = 0; i < nout; i++) {
      o.push_back(outputs[i]->t);
      go.push_back(grad_outputs ? def(grad_outputs[i]) : at::Tensor());
    }
    for (int i = 0; i < nin; i++) in.push_back(inputs[i]->t);
    auto r = torch::autograd::grad(o, in, go, retain_graph ? c10::optional<bool>(true) : c10::optional<bool>(false),
                                   create_graph != 0, allow_unused != 0);
    for (int i = 0; i < nin; i++) out[i] = wrap(r[i]);
  })
}
int ct_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
void ct_set_grad_enabled(int flag) { c10::GradMode::set_enabled(flag != 0); }
void *ct_inference_mode_begin(void) { return new c10::InferenceMode(true); }

// ---- profiler -------------------------------------------------------------------------
// libtorch's (legacy) CPU profiler over the calling thread and the threads its work spreads to.
// ct_profile_end aggregates the recorded ranges per operator: "name\tcalls\tself_us\ttotal_us"
// lines, largest self time first; self time is a range's time minus that of ranges nested in it.
int ct_profile_begin(void) {
  CT_GUARD(-1, {
    torch::autograd::profiler::enableProfilerLegacy(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
    return 0;
  })
}
char *ct_profile_end(void) {
  CT_GUARD(nullptr, {
    auto lists = torch::autograd::profiler::disableProfilerLegacy();
    struct Totals { int64_t calls = 0; double self = 0, total = 0; };
    std::map<std::string, Totals> totals;
    for (auto &list : lists) {
      struct Open { const torch::autograd::profiler::LegacyEvent *event; double children; };
      std::vector<Open> open;
      for (auto &e : list) {
        if (e.kind() == torch::autograd::profiler::EventKind::PushRange) {
          open.push_back({&e, 0});
        } else if (e.kind() == torch::autograd::profiler::EventKind::PopRange) {
          // The matching push is the innermost open range with the same handle.
          auto it = std::find_if(open.rbegin(), open.rend(), [&](const Open &o) { return o.event->handle() == e.handle(); });
          if (it == open.rend()) continue;
          Open range = *it;
          open.erase(std::next(it).base(), open.end());
          double duration = range.event->cpuElapsedUs(e);
          auto &t = totals[range.event->name()];
          t.calls++;
          t.total += duration;
          t.self += duration - range.children;
          if (!open.empty()) open.back().children += duration;
        }
      }
    }
    std::vector<std::pair<std::string, Totals>> rows(totals.begin(), totals.end());
    std::sort(rows.begin(), rows.end(), [](auto &a, auto &b) { return a.second.self > b.second.self; });
    std::string text;
    for (auto &r : rows)
      text += r.first + "\t" + std::to_string(r.second.calls) + "\t" + std::to_string(r.second.self) + "\t" +
              std::to_string(r.second.total) + "\n";
    return strdup(text.c_str());
  })
}

// ---- mixed precision ----------------------------------------------------------------
// CPU autocast is thread-local state, as torch.autocast("cpu"): entering saves the thread's
// previous setting (enabled flag in bit 0, dtype above bit 8) and nests the cast cache, which
// holds each weight's low-precision copy until the outermost scope ends.
int ct_autocast_begin(int enabled, int dtype) {
  int previous = (at::autocast::is_cpu_enabled() ? 1 : 0) | (static_cast<int>(at::autocast::get_autocast_cpu_dtype()) << 8);
  at::autocast::set_cpu_enabled(enabled != 0);
  if (enabled) at::autocast::set_autocast_cpu_dtype(st(dtype));
  at::autocast::increment_nesting();
  return previous;
}
void ct_autocast_end(int previous) {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled((previous & 1) != 0);
  at::autocast::set_autocast_cpu_dtype(st(previous >> 8));
}
int ct_autocast_enabled(void) { return at::autocast::is_cpu_enabled() ? 1 : 0; }
void ct_inference_mode_end(void *guard) { delete static_cast<c10::InferenceMode *>(guard); }

// ---- random generator -------------------------------------------------------------
void ct_manual_seed(uint64_t seed) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
}
CTTensor ct_rng_get_state(void) {
  CT_GUARD(nullptr, {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return wrap(gen.get_state());
  })
}
int ct_rng_set_state(CTTensor state) {
  CT_STATUS({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state->t);
  })
}

// ---- runtime ---------------------------------------------------------------------
namespace {
// OpenBLAS (Debian's pthread build) keeps its own pool, one thread per core, whose idle threads
// spin in sched_yield after every call; libtorch 1.13 does not size it. Matrix products then run
// on more threads than asked for and burn a core in system time. So the pool follows libtorch's
// intra-op count whenever that is set. Looked up at run time: another BLAS may be linked.
void set_blas_threads(int n) {
  using Setter = void (*)(int);
  static const Setter setter = reinterpret_cast<Setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (setter) setter(n);
}

// SKETCH2REAL_THREADS=N sets libtorch's intra-op thread count for the whole process before any
// work runs (a command's --threads still wins), so a test run or a script can pin it.
struct ThreadsFromEnvironment {
  ThreadsFromEnvironment() {
    const char *value = std::getenv("SKETCH2REAL_THREADS");
    if (value && *value) {
      char *end = nullptr;
      const long n = std::strtol(value, &end, 10);
      if (*end == '\0' && n >= 1 && n <= 4096) at::set_num_threads(static_cast<int>(n));
    }
    set_blas_threads(at::get_num_threads());
  }
} threads_from_environment;
} // namespace
void ct_set_num_threads(int n) {
  at::set_num_threads(n);
  set_blas_threads(n);
}
int ct_get_num_threads(void) { return at::get_num_threads(); }
int ct_set_num_interop_threads(int n) { CT_STATUS(at::set_num_interop_threads(n)) }
int ct_get_num_interop_threads(void) { return at::get_num_interop_threads(); }
char *ct_version(void) { return dup(TORCH_VERSION); }
char *ct_config(void) {
  try {
    return dup(at::show_config());
  } catch (...) {
    return dup("");
  }
}
char *ct_parallel_info(void) {
  try {
    return dup(at::get_parallel_info());
  } catch (...) {
    return dup("");
  }
}
int ct_cuda_available(void) { return at::hasCUDA() ? 1 : 0; }
int ct_cuda_device_count(void) {
  try {
    return at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
  } catch (...) {
    return 0;
  }
}
int ct_mkldnn_available(void) { return at::hasMKLDNN() ? 1 : 0; }

} // extern "C"
