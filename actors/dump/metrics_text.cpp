// The text's entry point, its escaping and number forms, and go's
// histograms carried across renders; the families are in metrics_libp2p.cpp
// (go-libp2p's) and metrics_rcmgr.cpp (this project's).
#include "actors/dump/metrics_text.hpp"

#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/dump/metrics_exposition.hpp"

namespace rcmgr {

using json = nlohmann::json;

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string go_float_text(std::uint64_t value) {
  auto digits = std::to_string(value);
  // go's shortest 'g' switches to an exponent from 1e6 (exponent >= 6).
  if (digits.size() <= 6)
    return digits;
  auto exponent = digits.size() - 1;
  auto last = digits.find_last_not_of('0');
  std::string out(1, digits[0]);
  if (last > 0)
    out += "." + digits.substr(1, last);
  out += exponent < 10 ? "e+0" : "e+";
  out += std::to_string(exponent);
  return out;
}

namespace metrics_detail {

namespace {

/// go's resource label for a refused resource, and the direction it goes
/// under ("" for fd and memory).
std::pair<std::string, std::string> go_resource(const std::string& resource,
                                                const json* dir) {
  std::string d = dir != nullptr && dir->is_string() ? dir->get<std::string>() : "";
  if (resource.rfind("conns", 0) == 0)
    return {"connection", d};
  if (resource.rfind("streams", 0) == 0)
    return {"stream", d};
  return {resource, ""};
}

} // namespace

/// A list of {scope, resource, dir?, count} summed by go's labels.
void blocked_samples(exposition& out, const json* list) {
  if (list == nullptr || !list->is_array())
    return;
  std::map<std::array<std::string, 3>, std::uint64_t> sums;
  for (auto& x : *list) {
    auto scope = member(&x, "scope");
    auto resource = member(&x, "resource");
    if (scope == nullptr || !scope->is_string() || resource == nullptr ||
        !resource->is_string())
      continue;
    auto [res, dir] = go_resource(resource->get<std::string>(), member(&x, "dir"));
    sums[{dir, scope->get<std::string>(), res}] += count_of(member(&x, "count"));
  }
  for (auto& [labels, n] : sums)
    out.sample({{"dir", labels[0]}, {"scope", labels[1]}, {"resource", labels[2]}},
               std::to_string(n));
}

/// Reads {bounds, counts, count, sum}; nothing when it is malformed.
std::optional<dump_histogram> read_histogram(const json* h) {
  const json* bounds = member(h, "bounds");
  const json* counts = member(h, "counts");
  if (bounds == nullptr || counts == nullptr || !bounds->is_array() ||
      !counts->is_array() || bounds->size() != counts->size())
    return std::nullopt;
  dump_histogram out;
  std::uint64_t listed = 0;
  for (std::size_t i = 0; i < bounds->size(); ++i) {
    out.bounds.push_back(count_of(&(*bounds)[i]));
    out.counts.push_back(count_of(&(*counts)[i]));
    listed += out.counts.back();
  }
  auto count = count_of(member(h, "count"));
  out.counts.push_back(count > listed ? count - listed : 0);
  out.sum = count_of(member(h, "sum"));
  return out;
}

std::string integer_text(std::uint64_t value) {
  return std::to_string(value);
}

/// Milliseconds as seconds, in the shortest text that reads back the same.
std::string seconds_text(std::uint64_t ms) {
  std::array<char, 32> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(),
                         static_cast<double>(ms) / 1000.0);
  return std::string(buf.data(), r.ptr);
}

/// The samples of one histogram: cumulative buckets (`base` and `le`), sum
/// and count, its bounds and sum written by `bound_text` and `sum_text`.
void histogram_samples(exposition& out, const label_list& base,
                       const std::vector<std::uint64_t>& bounds,
                       const std::vector<std::uint64_t>& counts, std::uint64_t sum,
                       value_text_fn bound_text, value_text_fn sum_text) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    auto labels = base;
    labels.emplace_back("le", i < bounds.size() ? bound_text(bounds[i]) : "+Inf");
    out.sample(labels, std::to_string(cumulative), "_bucket");
  }
  out.sample(base, sum_text(sum), "_sum");
  out.sample(base, std::to_string(cumulative), "_count");
}

} // namespace metrics_detail

const histogram_carry::totals&
histogram_carry::fold(const std::string& key, const std::vector<std::uint64_t>& counts,
                      std::uint64_t sum) {
  auto& e = entries_[key];
  if (e.last.size() != counts.size()) {
    e = entry{};
    e.last.assign(counts.size(), 0);
    e.kept.added.assign(counts.size(), 0);
    e.kept.removed.assign(counts.size(), 0);
  }
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > e.last[i])
      e.kept.added[i] += counts[i] - e.last[i];
    else
      e.kept.removed[i] += e.last[i] - counts[i];
  }
  if (sum > e.last_sum)
    e.kept.added_sum += sum - e.last_sum;
  else
    e.kept.removed_sum += e.last_sum - sum;
  e.last = counts;
  e.last_sum = sum;
  return e.kept;
}

std::string metrics_text(const nlohmann::json& state, histogram_carry* carry) {
  using namespace metrics_detail;
  exposition out;
  static const json no_scopes = nullptr;
  const json* scopes = member(&state, "scopes");
  if (scopes == nullptr)
    scopes = &no_scopes;
  histogram_carry first_render;
  libp2p_families(out, scopes, carry != nullptr ? *carry : first_render);
  rcmgr_families(out, state);
  return out.take();
}

} // namespace rcmgr
