// PyTorch's distributed engine (c10d) for data-parallel training: a Gloo process group on a
// TCPStore or FileStore, and the few collectives training needs. Collectives wait for their
// result; a peer that dies or hangs makes them fail after the group's timeout.
#define USE_C10D_GLOO 1
#include "shim.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <vector>

using namespace ctshim;

struct CTProcessGroupImpl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
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
    pg->group->broadcast(flat, o)->wait();
  } else {
    pg->group->allreduce(flat)->wait();
  }
  int64_t offset = 0;
  for (auto &p : parts) {
    const int64_t n = p.numel();
    p.copy_(flat[0].narrow(0, offset, n).view(p.sizes()));
    offset += n;
  }
}
} // namespace

extern "C" {

CTProcessGroup ct_pg_create(const char *host, int port, int serve, const char *file, int rank, int world, double timeout_seconds) {
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

int ct_pg_barrier(CTProcessGroup pg) { CT_STATUS(pg->group->barrier()->wait()) }

} // extern "C"
