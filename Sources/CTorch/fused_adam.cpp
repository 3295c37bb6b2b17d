// Adam's update of one parameter in a single pass, bit-identical to libtorch's op-by-op form.
#include "shim.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace ctshim;

extern "C" {

// One Adam update of a parameter in a single pass over p, g, m and v, instead of the eight
// passes (and two temporaries) of the op-by-op form. Each element follows libtorch's kernels'
// float operations: g·(1 − β1) + m·β1 as add with alpha, (1 − β2)·g·g + v·β2 as addcmul (each a
// fused multiply-add on the kernel paths that fuse them), √v / √bc2 + ε, p + ((−lr/bc1)·m) /
// denom as addcdiv, with √v from libtorch's own sqrt kernel — so the two agree to the last bit on
// every kernel path and CPU (FusedAdamTests). Dense float32 CPU tensors only;
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

// Elements per block: the square roots of a block are taken by libtorch's own kernel between
// the two loops over it, on a block that stays in cache (4 arrays × 64 KB).
constexpr int64_t kBlock = 16384;

void adam_update(bool fused_multiply_add, float *pp, float *mp, float *vp, const float *gp, int64_t begin, int64_t end,
                 float b1, float a1, float b2, float a2, float bc2_sqrt, float step_size, float e) {
#pragma clang fp contract(off)
  std::vector<float> roots(static_cast<size_t>(std::min(kBlock, end - begin)));
  for (int64_t start = begin; start < end; start += kBlock) {
    const int64_t stop = std::min(start + kBlock, end);
    for (int64_t i = start; i < stop; i++) {
      const float gi = gp[i];
      const float mb = mp[i] * b1, vb = vp[i] * b2, ag = a2 * gi;
      mp[i] = fused_multiply_add ? std::fma(gi, a1, mb) : gi * a1 + mb;
      vp[i] = fused_multiply_add ? std::fma(ag, gi, vb) : ag * gi + vb;
    }
    // √v by libtorch's sqrt, as the op-by-op form takes it: the torch wheel's is MKL's vsSqrt,
    // which is within 1 ulp but not correctly rounded on every CPU (on AMD Zen 4 it differs
    // from std::sqrt in about one element in six), so std::sqrt here would not match it.
    at::Tensor v_block = at::from_blob(vp + start, {stop - start}, at::kFloat);
    at::Tensor root_block = at::from_blob(roots.data(), {stop - start}, at::kFloat);
    at::sqrt_out(root_block, v_block);
    for (int64_t i = start; i < stop; i++) {
      const float denom = roots[static_cast<size_t>(i - start)] / bc2_sqrt + e;
      pp[i] = pp[i] + (step_size * mp[i]) / denom;
    }
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

} // extern "C"
