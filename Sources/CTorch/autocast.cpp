// CPU autocast scopes (torch.autocast("cpu", dtype)).
#include "shim.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

using namespace ctshim;

extern "C" {

// ---- mixed precision ----------------------------------------------------------------
// Autocast is thread-local state, as torch.autocast: entering sets it for CPU and CUDA tensors
// alike (each op consults its own device's setting) and saves the thread's previous CPU setting
// (enabled flag in bit 0, dtype in bits 8–15) and CUDA setting (flag in bit 1, dtype in bits
// 16–23), and nests the cast cache, which holds each weight's low-precision copy until the
// outermost scope ends.
int ct_autocast_begin(int enabled, int dtype) {
  int previous = (cpu_autocast::enabled() ? 1 : 0) | (static_cast<int>(cpu_autocast::dtype()) << 8) |
                 (cuda_autocast::enabled() ? 2 : 0) | (static_cast<int>(cuda_autocast::dtype()) << 16);
  cpu_autocast::set_enabled(enabled != 0);
  cuda_autocast::set_enabled(enabled != 0);
  if (enabled) {
    cpu_autocast::set_dtype(st(dtype));
    cuda_autocast::set_dtype(st(dtype));
  }
  at::autocast::increment_nesting();
  return previous;
}
void ct_autocast_end(int previous) {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  cpu_autocast::set_enabled((previous & 1) != 0);
  cpu_autocast::set_dtype(st((previous >> 8) & 0xff));
  cuda_autocast::set_enabled((previous & 2) != 0);
  cuda_autocast::set_dtype(st((previous >> 16) & 0xff));
}
int ct_autocast_enabled(void) { return cpu_autocast::enabled() || cuda_autocast::enabled() ? 1 : 0; }

} // extern "C"
