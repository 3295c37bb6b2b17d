# Kernel paths for the test matrix and the learning margins (sourced by scripts/test-matrix and
# scripts/learning-margins). A path is a name and the environment that makes libtorch take it:
#   default             what this processor picks by itself
#   aten-avx2           ATen's vectorised kernels capped at AVX2 (ATEN_CPU_CAPABILITY=avx2)
#   aten-avx512         ATen's AVX-512 kernels, where the processor has them
#   onednn-avx512-core  oneDNN capped at AVX-512 without bfloat16 instructions, as on Skylake-X
#                       or Ice Lake: oneDNN emulates bfloat16 (where the processor has AVX-512)
#   onednn-avx2         oneDNN capped at AVX2 and AVX-512 hidden from libtorch, as on AMD Zen 3:
#                       bfloat16 convolutions run ATen's own kernels (where it has more than AVX2)
# ONEDNN_MAX_CPU_ISA below AVX-512 also hides AVX-512 from libtorch's own checks
# (Sources/CTorch/cpu_features.cpp), as a processor without it would.

has_avx512() { grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; }

# The paths this processor can take, in order.
kernel_paths() {
  local paths="default aten-avx2"
  if has_avx512; then paths="$paths aten-avx512 onednn-avx512-core onednn-avx2"; fi
  echo "$paths"
}

# The environment assignments of a path, for `env`.
kernel_path_env() {
  case $1 in
    default) echo "" ;;
    aten-avx2) echo "ATEN_CPU_CAPABILITY=avx2" ;;
    aten-avx512) echo "ATEN_CPU_CAPABILITY=avx512" ;;
    onednn-avx512-core) echo "ONEDNN_MAX_CPU_ISA=AVX512_CORE" ;;
    onednn-avx2) echo "ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2" ;;
    *) echo "kernel-paths: unknown path $1" >&2; return 1 ;;
  esac
}

# The instruction set oneDNN reports under a path (from its verbose start-up line), through the
# Python reference of the same libtorch version as the default build where it is installed
# (.cache/venv-torch-2.15), else Debian's; "unknown" where that cannot be read.
onednn_isa() {
  local isa python=/usr/bin/python3
  [ -x .cache/venv-torch-2.15/bin/python ] && python=.cache/venv-torch-2.15/bin/python
  isa=$(env $(kernel_path_env "$1") DNNL_VERBOSE=1 ONEDNN_VERBOSE=1 "$python" -c '
import torch
torch.nn.functional.conv2d(torch.randn(2, 16, 32, 32), torch.randn(16, 16, 3, 3))' 2>/dev/null \
    | grep -m1 'info,cpu,isa:' | sed 's/.*isa://')
  echo "${isa:-unknown}"
}

# Runs the exported shell function $1 once per line of standard input, whose first field is a
# libtorch thread count: the lines of each thread count together, as many at once as the cores
# allow (results depend on the thread count and the kernel path, not on what else runs).
run_by_thread_count() {
  local run=$1 lines threads parallel cores
  lines=$(cat)
  cores=$(nproc)
  for threads in $(echo "$lines" | awk '{print $1}' | sort -un); do
    parallel=$(( cores / threads )); [ "$parallel" -ge 1 ] || parallel=1
    echo "$lines" | awk -v t="$threads" '$1 == t' | xargs -P "$parallel" -L 1 bash -c "$run \"\$@\"" _
  done
}
export -f kernel_path_env
