// GET /metrics (DESIGN §6.3): the state dump document rendered as Prometheus
// text (exposition format 0.0.4), so the metrics and the dump read the same
// data and cannot disagree. Plain C++: JSON in, text out.
//
// go-libp2p's resource-manager families (libp2p_rcmgr_*) with its names,
// labels and bucket bounds, from the dump part `scopes`; this project's own
// (rcmgr_*) from the other parts. A part that is absent or malformed leaves
// its families without samples; the text is always well formed. The
// families and where each value comes from: docs/metrics.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rcmgr {

/// The Content-Type of the text.
inline constexpr const char* metrics_content_type = "text/plain; version=0.0.4";

/// go's histograms as counters across renders: per bucket, what the
/// distribution gained since the first render adds to `peer_*` (added), what
/// it lost adds to `previous_*` (removed). Both only grow, and added minus
/// removed is the distribution now, as in go (docs/metrics.md). The caller
/// keeps one for the life of the endpoint and serialises the renders.
class histogram_carry {
public:
  struct totals {
    /// Per bucket; the last one holds the values above every bound.
    std::vector<std::uint64_t> added;
    std::vector<std::uint64_t> removed;
    std::uint64_t added_sum = 0;
    std::uint64_t removed_sum = 0;
  };

  /// Folds in histogram `key`'s distribution now: `counts` per bucket (the
  /// last above every bound) and the sum of the values. A bucket count that
  /// differs from the last fold's starts the histogram afresh.
  const totals& fold(const std::string& key, const std::vector<std::uint64_t>& counts,
                     std::uint64_t sum);

private:
  struct entry {
    std::vector<std::uint64_t> last;
    std::uint64_t last_sum = 0;
    totals kept;
  };
  std::map<std::string, entry, std::less<>> entries_;
};

/// Every family, with HELP and TYPE lines, of the state `state`. Without a
/// carry the histograms read as a first render: `peer_*` the distribution
/// now, `previous_*` zero.
std::string metrics_text(const nlohmann::json& state, histogram_carry* carry = nullptr);

/// A label value escaped for the text format: backslash, double quote and
/// newline as \\, \" and \n.
std::string escape_label_value(const std::string& value);

/// A bucket bound as go's client writes it (strconv 'g', shortest): 1024,
/// 32768, 1.048576e+06, 4.294967296e+09.
std::string go_float_text(std::uint64_t value);

} // namespace rcmgr
