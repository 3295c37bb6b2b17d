// What the shim's C++ files share: the tensor handle's layout, argument helpers and the guard
// that turns every C++ exception into the thread's last error. Not part of the C interface.
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>

#include <string>

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
