// libtorch's CPU profiler, aggregated per operator.
#include "shim.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace ctshim;

extern "C" {

// ---- profiler -------------------------------------------------------------------------
// libtorch's (legacy) CPU profiler over the calling thread and the threads its work spreads to.
// ct_profile_end aggregates the recorded ranges per operator: "name\tcalls\tself_us\ttotal_us"
// lines, largest self time first; self time is a range's time minus that of ranges nested in it.
int ct_profile_begin(void) {
  CT_GUARD(-1, {
    torch::autograd::profiler::enableProfilerLegacy(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
    return 0;
  })
}
char *ct_profile_end(void) {
  CT_GUARD(nullptr, {
    auto lists = torch::autograd::profiler::disableProfilerLegacy();
    struct Totals { int64_t calls = 0; double self = 0, total = 0; };
    std::map<std::string, Totals> totals;
    for (auto &list : lists) {
      struct Open { const torch::autograd::profiler::LegacyEvent *event; double children; };
      std::vector<Open> open;
      for (auto &e : list) {
        if (e.kind() == torch::autograd::profiler::EventKind::PushRange) {
          open.push_back({&e, 0});
        } else if (e.kind() == torch::autograd::profiler::EventKind::PopRange) {
          // The matching push is the innermost open range with the same handle.
          auto it = std::find_if(open.rbegin(), open.rend(), [&](const Open &o) { return o.event->handle() == e.handle(); });
          if (it == open.rend()) continue;
          Open range = *it;
          open.erase(std::next(it).base(), open.end());
          double duration = range.event->cpuElapsedUs(e);
          auto &t = totals[range.event->name()];
          t.calls++;
          t.total += duration;
          t.self += duration - range.children;
          if (!open.empty()) open.back().children += duration;
        }
      }
    }
    std::vector<std::pair<std::string, Totals>> rows(totals.begin(), totals.end());
    std::sort(rows.begin(), rows.end(), [](auto &a, auto &b) { return a.second.self > b.second.self; });
    std::string text;
    for (auto &r : rows)
      text += r.first + "\t" + std::to_string(r.second.calls) + "\t" + std::to_string(r.second.self) + "\t" +
              std::to_string(r.second.total) + "\n";
    return strdup(text.c_str());
  })
}

} // extern "C"
