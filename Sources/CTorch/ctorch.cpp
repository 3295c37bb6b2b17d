// The extern "C" layer over libtorch: every entry point converts handles, calls ATen and turns
// any exception into a message. Kernels of our own live beside it: transposed_convolution.cpp
// (oneDNN path and per-shape choice), fused_adam.cpp; autocast.cpp and profiler.cpp wrap those
// libtorch facilities.
#include "shim.h"

#include <ATen/ATen.h>
#include <dlfcn.h>
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

using namespace ctshim;

namespace {
thread_local std::string last_error;
thread_local bool has_error = false;
// One slot per open capture scope, innermost last; a slot holds the first failure in its scope.
thread_local std::vector<std::pair<bool, std::string>> capture_stack;

void set_error(const char *msg) {
  last_error = msg ? msg : "unknown libtorch error";
  has_error = true;
}

at::Tensor def(CTTensor t) { return t ? t->t : at::Tensor(); }

at::TensorOptions options(int dtype, int device, int index) {
  auto o = at::TensorOptions().dtype(st(dtype));
  if (device == CT_CUDA) return o.device(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)));
  if (device == CT_META) return o.device(at::kMeta);
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
int ct_device_type(CTTensor t) {
  if (!t->t.defined()) return CT_CPU;
  return t->t.is_cuda() ? CT_CUDA : t->t.is_meta() ? CT_META : CT_CPU;
}
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
  CT_TENSOR(t->t.to(device == CT_CUDA   ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index))
                    : device == CT_META ? at::Device(at::kMeta)
                                        : at::Device(at::kCPU)))
}
CTTensor ct_clone(CTTensor t) { CT_TENSOR(t->t.clone()) }
CTTensor ct_contiguous(CTTensor t) { CT_TENSOR(t->t.contiguous()) }
// Channels-last (NHWC in memory, NCHW in shape) for 4-D tensors, in place: the tensor keeps its
// identity (as `param.data = param.to(memory_format=torch.channels_last)`), so optimisers and
// modules that hold it see the new layout. Other ranks are left alone.
int ct_set_channels_last_(CTTensor t) {
  CT_STATUS({
    if (t->t.dim() == 4) {
      at::NoGradGuard no_grad;
      t->t.set_data(t->t.contiguous(at::MemoryFormat::ChannelsLast));
    }
  })
}
int ct_is_channels_last(CTTensor t) {
  return t->t.dim() == 4 && t->t.is_contiguous(at::MemoryFormat::ChannelsLast) ? 1 : 0;
}
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
      // libtorch 1.13 has no bfloat16 reflection padding, and CPU autocast (1.13 and 2.15 alike)
      // runs the op in float32, costing two casts per padded convolution. For bfloat16 input the
      // same result is put together from mirrored slices (autograd sums the gradients back the
      // same way).
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
// PyPI's libtorch does its matrix products in its own MKL, which it sizes itself; OpenBLAS may
// still be in the process (OpenCV's dependencies bring it), and sizing its pool is then harmless.
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
int ct_cuda_compiled(void) {
  try {
    return at::detail::getCUDAHooks().hasCUDART() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
int ct_cuda_capability(int index) {
  // From the CUDA runtime that libtorch already loaded (no CUDA headers needed here):
  // cudaDeviceGetAttribute(&value, cudaDevAttrComputeCapabilityMajor = 75 / Minor = 76, device).
  using GetAttribute = int (*)(int *, int, int);
  auto get = reinterpret_cast<GetAttribute>(dlsym(RTLD_DEFAULT, "cudaDeviceGetAttribute"));
  int major = 0, minor = 0;
  if (!get || !at::hasCUDA() || get(&major, 75, index) != 0 || get(&minor, 76, index) != 0) return 0;
  return major * 10 + minor;
}
void ct_set_cudnn_benchmark(int on) { at::globalContext().setBenchmarkCuDNN(on != 0); }

static thread_local int thread_device = -1, thread_device_index = 0;
void ct_set_thread_device(int device, int index, int *previous_device, int *previous_index) {
  *previous_device = thread_device;
  *previous_index = thread_device_index;
  thread_device = device;
  thread_device_index = index;
}
int ct_thread_device(int *index) {
  *index = thread_device_index;
  return thread_device;
}
int ct_cuda_device_count(void) {
  try {
    return at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
  } catch (...) {
    return 0;
  }
}
int ct_mkldnn_available(void) { return at::hasMKLDNN() ? 1 : 0; }

} // extern "C"
