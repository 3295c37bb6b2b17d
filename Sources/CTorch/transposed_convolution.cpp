// Transposed convolutions on oneDNN, and the per-shape choice between that path and libtorch's.
#include "shim.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

using namespace ctshim;

extern "C" {

// libtorch 1.13 runs CPU transposed convolutions on its slow im2col path (no oneDNN backend).
// A transposed convolution is the input gradient of the ordinary convolution with the same
// weight, so it is computed here by oneDNN's backward-data kernel; its own backward is an
// ordinary convolution (input gradient) and an ordinary weight gradient, also oneDNN's.
// Same function, sums in another order: results agree to float rounding. From PyTorch 2.0 on,
// libtorch's own CPU path ("im2col" here) is oneDNN's deconvolution primitive; on 2.15 neither
// path won on every pix2pix decoder layer, so the per-shape measurement below still decides.
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
    // the autocast cache), since it is an ordinary convolution's backward-data kernel. 2.x's
    // autocast casts conv_transpose2d itself but not convolution_backward, which that path
    // calls, so the cast stays.
    int mode = transposed_mode;
    if (cpu_autocast::enabled() && input.device().is_cpu() && mode != CT_TRANSPOSED_IM2COL) {
      auto low = cpu_autocast::dtype();
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

} // extern "C"
