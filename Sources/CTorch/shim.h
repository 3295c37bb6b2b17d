// What the shim's C++ files share: the tensor handle's layout, argument helpers and the guard
// that turns every C++ exception into the thread's last error. Not part of the C interface.
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <string>

// The shim builds against Debian's libtorch 1.13 and PyPI's 2.x; this picks the API where they differ.
#define CT_TORCH_AT_LEAST(major, minor)                                                                               \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

struct CTTensorImpl {
  at::Tensor t;
};

// Records a failure for ct_last_error() on this thread (defined in ctorch.cpp).
void ct_internal_set_error(const char *msg);

namespace ctshim {
inline CTTensor wrap(at::Tensor t) { return new CTTensorImpl{std::move(t)}; }

inline c10::optional<at::Tensor> opt(CTTensor t) {
  if (t == nullptr || !t->t.defined()) return c10::nullopt;
  return t->t;
}

inline at::IntArrayRef ref(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

inline at::ScalarType st(int code) { return static_cast<at::ScalarType>(code); }

// The calling thread's CPU autocast state (torch.autocast("cpu")). PyTorch 2.4 replaced the
// per-device functions (is_cpu_enabled, get_autocast_cpu_dtype, ...) with ones that take the
// device type, and deprecated the old ones.
namespace cpu_autocast {
#if CT_TORCH_AT_LEAST(2, 4)
inline bool enabled() { return at::autocast::is_autocast_enabled(at::kCPU); }
inline void set_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCPU, on); }
inline at::ScalarType dtype() { return at::autocast::get_autocast_dtype(at::kCPU); }
inline void set_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCPU, t); }
#else
inline bool enabled() { return at::autocast::is_cpu_enabled(); }
inline void set_enabled(bool on) { at::autocast::set_cpu_enabled(on); }
inline at::ScalarType dtype() { return at::autocast::get_autocast_cpu_dtype(); }
inline void set_dtype(at::ScalarType t) { at::autocast::set_autocast_cpu_dtype(t); }
#endif
} // namespace cpu_autocast

// The same for CUDA tensors (torch.autocast("cuda", dtype)); harmless where no CUDA is.
namespace cuda_autocast {
#if CT_TORCH_AT_LEAST(2, 4)
inline bool enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
inline void set_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
inline at::ScalarType dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
inline void set_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }
#else
inline bool enabled() { return at::autocast::is_enabled(); }
inline void set_enabled(bool on) { at::autocast::set_enabled(on); }
inline at::ScalarType dtype() { return at::autocast::get_autocast_gpu_dtype(); }
inline void set_dtype(at::ScalarType t) { at::autocast::set_autocast_gpu_dtype(t); }
#endif
} // namespace cuda_autocast
} // namespace ctshim

#define CT_GUARD(fail, ...)                                                                                           \
  try {                                                                                                                \
    __VA_ARGS__                                                                                                        \
  } catch (const c10::Error &e) {                                                                                      \
    ct_internal_set_error(e.what_without_backtrace());                                                                 \
  } catch (const std::exception &e) {                                                                                  \
    ct_internal_set_error(e.what());                                                                                   \
  } catch (...) {                                                                                                      \
    ct_internal_set_error("unknown C++ exception in libtorch");                                                        \
  }                                                                                                                    \
  return fail;

#define CT_TENSOR(...) CT_GUARD(nullptr, return wrap(__VA_ARGS__);)
#define CT_STATUS(...) CT_GUARD(-1, __VA_ARGS__; return 0;)
