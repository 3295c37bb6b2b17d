// SKETCH2REAL_HIDE_CPU_FEATURES: makes libtorch choose its kernels as on a processor without
// some of this one's features, so that one machine can run the paths of another in tests.
//
// ATEN_CPU_CAPABILITY caps ATen's own vectorised kernels and ONEDNN_MAX_CPU_ISA caps oneDNN's,
// but libtorch 1.13 decides whether a bfloat16 convolution or matrix product goes to oneDNN at
// all from cpuinfo's flags (mkldnn_bf16_device_check: AVX-512 BW, VL and DQ). On a processor
// without AVX-512 (AMD Zen 3) those calls take ATen's own bfloat16 kernels instead, whose
// rounding differs. Debian's libtorch links libcpuinfo dynamically, so clearing the flags in
// its shared `cpuinfo_isa` after initialisation changes what libtorch sees; the symbols are
// looked up at run time, so a libtorch with cpuinfo built in links as before. Later libtorch
// releases ask oneDNN itself (ideep::has_bf16_type_support), which ONEDNN_MAX_CPU_ISA caps.
//
// Values, comma-separated: "avx512" (every AVX-512 flag, as AMD Zen 3 or Intel before Skylake),
// "avx512_bf16" (bfloat16 instructions only, as Skylake-X or Ice Lake).
//
// ONEDNN_MAX_CPU_ISA below AVX-512 hides AVX-512 the same way. Without that, libtorch 1.13 still
// sends bfloat16 convolutions to oneDNN, which has no bfloat16 kernel under that cap and fails
// ("could not create a primitive descriptor iterator"): a path that no real processor takes.
#include <torch/version.h>

#include <cctype>
#include <cstdlib>
#include <string>

namespace {
// Whether oneDNN is capped (ONEDNN_MAX_CPU_ISA, or its older name DNNL_MAX_CPU_ISA) below AVX-512.
bool onednn_capped_below_avx512() {
  const char *cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (!cap || !*cap) cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (!cap || !*cap) return false;
  std::string isa(cap);
  for (auto &c : isa) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return isa != "ALL" && isa != "DEFAULT" && isa.rfind("AVX512", 0) != 0;
}
} // namespace

#if TORCH_VERSION_MAJOR < 2 && __has_include(<cpuinfo.h>)
#include <cpuinfo.h>

#include <dlfcn.h>

namespace {
struct HiddenCPUFeatures {
  HiddenCPUFeatures() {
    const char *hide = std::getenv("SKETCH2REAL_HIDE_CPU_FEATURES");
    std::string list(hide ? hide : "");
    if (onednn_capped_below_avx512()) list += ",avx512";
    if (list.empty()) return;
    using Initialize = bool (*)();
    const auto initialize = reinterpret_cast<Initialize>(dlsym(RTLD_DEFAULT, "cpuinfo_initialize"));
    auto *isa = static_cast<cpuinfo_x86_isa *>(dlsym(RTLD_DEFAULT, "cpuinfo_isa"));
    if (!initialize || !isa || !initialize()) return;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      const std::string name = list.substr(start, end - start);
      if (name == "avx512") {
        isa->avx512f = isa->avx512pf = isa->avx512er = isa->avx512cd = false;
        isa->avx512dq = isa->avx512bw = isa->avx512vl = isa->avx512ifma = false;
        isa->avx512vbmi = isa->avx512vbmi2 = isa->avx512bitalg = false;
        isa->avx512vpopcntdq = isa->avx512vnni = isa->avx512bf16 = false;
        isa->avx512vp2intersect = isa->avx512_4vnniw = isa->avx512_4fmaps = false;
      } else if (name == "avx512_bf16") {
        isa->avx512bf16 = false;
      }
      start = end + 1;
    }
  }
} hidden_cpu_features;
} // namespace
#elif TORCH_VERSION_MAJOR >= 2
// PyPI's libtorch keeps cpuinfo to itself (its symbols are not exported), but its bfloat16 checks
// and its kernels follow ONEDNN_MAX_CPU_ISA and ATEN_CPU_CAPABILITY, read when first needed, after
// this runs. So the list becomes those caps; caps set explicitly in the environment win.
namespace {
struct HiddenCPUFeatures {
  HiddenCPUFeatures() {
    const char *hide = std::getenv("SKETCH2REAL_HIDE_CPU_FEATURES");
    const std::string list = std::string(",") + (hide ? hide : "") + ",";
    // A oneDNN cap below AVX-512 stands for a processor without it: ATen's kernels follow, as
    // they do on libtorch 1.13 through cpuinfo.
    if (onednn_capped_below_avx512()) setenv("ATEN_CPU_CAPABILITY", "avx2", 0);
    if (list.find(",avx512,") != std::string::npos) {
      setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 0);
      setenv("ATEN_CPU_CAPABILITY", "avx2", 0);
    } else if (list.find(",avx512_bf16,") != std::string::npos) {
      // AVX-512 with VNNI but without bfloat16 instructions (Cascade Lake, Ice Lake).
      setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI", 0);
    }
  }
} hidden_cpu_features;
} // namespace
#endif
