// PyTorch's distributed engine (c10d) for data-parallel training: a Gloo process group on a
// TCPStore or FileStore, and the few collectives training needs. Collectives wait for their
// result; a peer that dies or hangs makes them fail after the group's timeout.
#define USE_C10D_GLOO 1
#include "shim.h"

// ProcessGroupGloo.hpp includes Gloo's headers, which PyPI's libtorch does not ship although its
// libtorch_cpu has Gloo built in: they come from Debian's libgloo-dev for both builds. Only the
// Gloo types that the shim passes through (shared_ptr to a transport device) cross that seam;
// GlooStore's extra virtuals in newer Gloo (GLOO_STORE_HAS_STORE_V2) are never called from here.

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef SKETCH2REAL_NCCL
// CUDA builds that found NCCL's header beside the libtorch (Package.swift): NCCL for groups whose
// tensors live on GPUs, as PyTorch's DDP uses it there.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <string>
#include <vector>

using namespace ctshim;

// One backend per group: Gloo (CPU tensors; also CUDA tensors, through host copies) or NCCL.
struct CTProcessGroupImpl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#ifdef SKETCH2REAL_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor> &t) {
#ifdef SKETCH2REAL_NCCL
    if (nccl) return nccl->allreduce(t);
#endif
    return gloo->allreduce(t);
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor> &t, const c10d::BroadcastOptions &o) {
#ifdef SKETCH2REAL_NCCL
    if (nccl) return nccl->broadcast(t, o);
#endif
    return gloo->broadcast(t, o);
  }
  c10::intrusive_ptr<c10d::Work> barrier() {
#ifdef SKETCH2REAL_NCCL
    if (nccl) return nccl->barrier();
#endif
    return gloo->barrier();
  }
  int size() const {
#ifdef SKETCH2REAL_NCCL
    if (nccl) return nccl->getSize();
#endif
    return gloo->getSize();
  }
};

namespace {
std::vector<at::Tensor> tensors(CTTensor *ts, int count) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; i++) v.push_back(ts[i]->t);
  return v;
}

// One flat buffer per call, so a bucket of many small tensors costs one collective.
void flat_collective(CTProcessGroup pg, CTTensor *ts, int count, bool broadcast, int root) {
  at::NoGradGuard no_grad; // parameters are written in place
  auto parts = tensors(ts, count);
  if (parts.empty()) return;
  std::vector<at::Tensor> pieces;
  pieces.reserve(parts.size());
  for (auto &p : parts) pieces.push_back(p.reshape({-1}));
  std::vector<at::Tensor> flat{at::cat(pieces)};
  if (broadcast) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    pg->broadcast(flat, o)->wait();
  } else {
    pg->allreduce(flat)->wait();
  }
  int64_t offset = 0;
  for (auto &p : parts) {
    const int64_t n = p.numel();
    p.copy_(flat[0].narrow(0, offset, n).view(p.sizes()));
    offset += n;
  }
}
} // namespace

// Gradient averaging overlapped with backward, as PyTorch's DDP does it: the parameters are cut
// into buckets in reverse order (the order backward produces their gradients), a hook on each
// parameter copies its gradient into its bucket's flat buffer, and a bucket's all-reduce starts
// as soon as its last gradient has arrived, while backward goes on. Buckets start strictly in
// index order on every rank (Gloo matches collectives by order), so a bucket that fills early
// waits for the ones before it. Each bucket ends with one flag per parameter (1 where this rank
// produced a gradient), reduced with the gradients: a parameter no rank used keeps no gradient,
// as in one process; one used by some ranks gets the mean with zeros for the others, as in DDP.
struct CTReducerImpl {
  CTProcessGroupImpl *pg;
  std::vector<at::Tensor> params;
  std::vector<unsigned> hooks;
  std::vector<int> bucket_of;
  std::vector<int64_t> offset_of, flag_of;
  std::vector<int64_t> gradient_numel;  // per bucket: where its flags start
  std::vector<at::Tensor> flats;
  std::vector<int> expected, pending;
  std::vector<char> ready;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;
  bool armed = false;
  std::string error;

  void launch_ready() {
    while (next < flats.size() && pending[next] == 0) {
      if (error.empty()) {
        try {
          std::vector<at::Tensor> one{flats[next]};
          works[next] = pg->allreduce(one);
        } catch (const std::exception &e) {
          error = e.what();
        }
      }
      next++;
    }
  }

  at::Tensor slice(size_t i) { return flats[static_cast<size_t>(bucket_of[i])].narrow(0, offset_of[i], params[i].numel()); }

  void arrived(size_t i, const at::Tensor &g) {
    if (!armed || !g.defined() || ready[i]) return;  // a leaf's gradient arrives once per backward
    at::NoGradGuard no_grad;
    const auto b = static_cast<size_t>(bucket_of[i]);
    slice(i).copy_(g.reshape({-1}));
    flats[b][flag_of[i]].fill_(1);
    ready[i] = 1;
    if (--pending[b] == 0) launch_ready();
  }
};

extern "C" {

CTReducer ct_reducer_create(CTProcessGroup pg, CTTensor *params, int count, int64_t bucket_bytes) {
  CT_GUARD(nullptr, {
    auto r = new CTReducerImpl();
    r->pg = pg;
    r->params = tensors(params, count);
    const size_t n = r->params.size();
    r->bucket_of.assign(n, 0);
    r->offset_of.assign(n, 0);
    r->flag_of.assign(n, 0);
    std::vector<size_t> first;  // a parameter of each bucket (its dtype and device)
    int64_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
      const size_t i = n - 1 - k;
      const auto &p = r->params[i];
      const int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
      if (first.empty() || (r->expected.back() > 0 && (bytes + size > bucket_bytes || p.scalar_type() != r->params[first.back()].scalar_type()))) {
        first.push_back(i);
        r->expected.push_back(0);
        r->gradient_numel.push_back(0);
        bytes = 0;
      }
      const size_t b = first.size() - 1;
      r->bucket_of[i] = static_cast<int>(b);
      r->offset_of[i] = r->gradient_numel[b];
      r->gradient_numel[b] += p.numel();
      r->expected[b]++;
      bytes += size;
    }
    std::vector<int64_t> flags(first.size(), 0);
    for (size_t k = 0; k < n; k++) {
      const size_t i = n - 1 - k, b = static_cast<size_t>(r->bucket_of[i]);
      r->flag_of[i] = r->gradient_numel[b] + flags[b]++;
    }
    for (size_t b = 0; b < first.size(); b++)
      r->flats.push_back(at::zeros({r->gradient_numel[b] + flags[b]}, r->params[first[b]].options().requires_grad(false)));
    for (size_t i = 0; i < n; i++) {
      auto *self = r;
      r->hooks.push_back(r->params[i].register_hook([self, i](const at::Tensor &g) { self->arrived(i, g); }));
    }
    return r;
  })
}

void ct_reducer_free(CTReducer r) {
  if (r == nullptr) return;
  for (size_t i = 0; i < r->params.size(); i++) {
    try {
      r->params[i].remove_hook(r->hooks[i]);
    } catch (...) {
    }
  }
  delete r;
}

int ct_reducer_buckets(CTReducer r) { return static_cast<int>(r->flats.size()); }

int ct_reducer_begin(CTReducer r) {
  CT_STATUS({
    r->pending = r->expected;
    r->ready.assign(r->params.size(), 0);
    r->works.assign(r->flats.size(), c10::intrusive_ptr<c10d::Work>());
    r->next = 0;
    r->error.clear();
    r->armed = true;
  })
}

int ct_reducer_finish(CTReducer r, double *wait_seconds) {
  CT_GUARD(-1, {
    at::NoGradGuard no_grad;
    r->armed = false;
    const auto start = std::chrono::steady_clock::now();
    // Parameters without a gradient in this backward contribute zeros and a 0 flag.
    for (size_t i = 0; i < r->params.size(); i++) {
      if (r->ready[i]) continue;
      const auto b = static_cast<size_t>(r->bucket_of[i]);
      r->slice(i).zero_();
      r->flats[b][r->flag_of[i]].fill_(0);
      r->pending[b]--;
    }
    r->launch_ready();
    std::string failure = r->error;
    for (auto &w : r->works) {
      if (!w) continue;
      try {
        if (failure.empty()) w->wait();
      } catch (const std::exception &e) {
        failure = e.what();
      }
    }
    if (wait_seconds != nullptr)
      *wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!failure.empty()) throw std::runtime_error(failure);
    const double world = static_cast<double>(r->pg->size());
    std::vector<at::Tensor> used;
    for (size_t b = 0; b < r->flats.size(); b++) {
      r->flats[b].narrow(0, 0, r->gradient_numel[b]).div_(world);
      used.push_back(r->flats[b].narrow(0, r->gradient_numel[b], r->flats[b].numel() - r->gradient_numel[b]).to(at::kCPU, at::kFloat));
    }
    for (size_t i = 0; i < r->params.size(); i++) {
      const auto b = static_cast<size_t>(r->bucket_of[i]);
      if (used[b].data_ptr<float>()[r->flag_of[i] - r->gradient_numel[b]] == 0) continue;  // no rank used it
      auto &p = r->params[i];
      auto avg = r->slice(i).view(p.sizes());
      if (p.grad().defined())
        p.mutable_grad().copy_(avg);
      else
        p.mutable_grad() = avg.clone();
    }
    return 0;
  })
}


CTProcessGroup ct_pg_create(const char *host, int port, int serve, const char *file, int rank, int world, double timeout_seconds,
                            int nccl) {
  CT_GUARD(nullptr, {
    auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
    c10::intrusive_ptr<c10d::Store> store;
    if (file != nullptr) {
      store = c10::make_intrusive<c10d::FileStore>(file, world);
    } else {
      c10d::TCPStoreOptions o;
      o.port = static_cast<uint16_t>(port);
      o.isServer = serve != 0;
      o.numWorkers = world;
      o.waitWorkers = true;
      o.timeout = timeout;
      store = c10::make_intrusive<c10d::TCPStore>(host, o);
    }
    store->setTimeout(timeout);
    // Under torchrun the store is the launcher's: keep our keys apart from its own.
    store = c10::make_intrusive<c10d::PrefixStore>("sketch2real", store);
    if (nccl != 0) {
#ifdef SKETCH2REAL_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
      auto impl = new CTProcessGroupImpl{store, {}};
      impl->nccl = group;
      return impl;
#else
      throw std::runtime_error("this build of sketch2real has no NCCL (build it against a libtorch with CUDA and NCCL's header)");
#endif
    }
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = timeout;
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
        file != nullptr || host == nullptr ? std::string("127.0.0.1") : std::string(host)));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
    return new CTProcessGroupImpl{store, group};
  })
}

void ct_pg_free(CTProcessGroup pg) { delete pg; }

int ct_pg_allreduce_sum(CTProcessGroup pg, CTTensor *tensors, int count) {
  CT_STATUS(flat_collective(pg, tensors, count, false, 0))
}

int ct_pg_broadcast(CTProcessGroup pg, CTTensor *tensors, int count, int root) {
  CT_STATUS(flat_collective(pg, tensors, count, true, root))
}

int ct_pg_barrier(CTProcessGroup pg) { CT_STATUS(pg->barrier()->wait()) }

int ct_pg_nccl_available(void) {
#ifdef SKETCH2REAL_NCCL
  return 1;
#else
  return 0;
#endif
}

const char *ct_pg_backend(CTProcessGroup pg) {
#ifdef SKETCH2REAL_NCCL
  if (pg->nccl) return "nccl";
#endif
  return "gloo";
}

} // extern "C"
