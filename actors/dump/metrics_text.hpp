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
#include <string>

#include <nlohmann/json.hpp>

namespace rcmgr {

/// The Content-Type of the text.
inline constexpr const char* metrics_content_type = "text/plain; version=0.0.4";

/// Every family, with HELP and TYPE lines, of the state `state`.
std::string metrics_text(const nlohmann::json& state);

/// A label value escaped for the text format: backslash, double quote and
/// newline as \\, \" and \n.
std::string escape_label_value(const std::string& value);

/// A bucket bound as go's client writes it (strconv 'g', shortest): 1024,
/// 32768, 1.048576e+06, 4.294967296e+09.
std::string go_float_text(std::uint64_t value);

} // namespace rcmgr
