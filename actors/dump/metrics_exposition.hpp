// The Prometheus text's writer and the dump readers the families share
// (actors/dump/metrics_*.cpp); not for use outside them. Plain C++.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/dump/metrics_text.hpp"

namespace rcmgr::metrics_detail {

using json = nlohmann::json;

using label_list = std::vector<std::pair<const char*, std::string>>;

/// The member `key` of `j`, or nullptr when `j` is not an object or has no
/// such member.
inline const json* member(const json* j, const char* key) {
  if (j == nullptr || !j->is_object())
    return nullptr;
  auto i = j->find(key);
  return i == j->end() ? nullptr : &*i;
}

inline const json* path(const json& root, std::initializer_list<const char*> keys) {
  const json* j = &root;
  for (auto key : keys)
    if ((j = member(j, key)) == nullptr)
      return nullptr;
  return j;
}

/// A sample value: an integer as it is, a float in its shortest form,
/// true/false as 1/0, "unlimited" as +Inf; nothing for anything else.
inline std::optional<std::string> value_text(const json* j) {
  if (j == nullptr)
    return std::nullopt;
  if (j->is_number_unsigned())
    return std::to_string(j->get<std::uint64_t>());
  if (j->is_number_integer())
    return std::to_string(j->get<std::int64_t>());
  if (j->is_number_float()) {
    std::array<char, 32> buf{};
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), j->get<double>());
    return std::string(buf.data(), r.ptr);
  }
  if (j->is_boolean())
    return std::string(j->get<bool>() ? "1" : "0");
  if (j->is_string() && j->get_ref<const std::string&>() == "unlimited")
    return std::string("+Inf");
  return std::nullopt;
}

/// A count: a non-negative integer, else 0.
inline std::uint64_t count_of(const json* j) {
  if (j == nullptr || !j->is_number_integer())
    return 0;
  return j->is_number_unsigned() || j->get<std::int64_t>() >= 0 ? j->get<std::uint64_t>()
                                                                : 0;
}

/// Writes the text: a family's HELP and TYPE once, then its samples.
class exposition {
public:
  void family(const char* name, const char* type, const char* help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help; // constant text without backslashes or newlines
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// A sample of the current family (with `suffix`, e.g. "_bucket").
  void sample(const label_list& labels, const std::string& value,
              const char* suffix = "") {
    out_ += name_;
    out_ += suffix;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (auto& [key, v] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  /// A sample when `j` has a value.
  void sample(const label_list& labels, const json* j) {
    if (auto v = value_text(j))
      sample(labels, *v);
  }

  std::string take() { return std::move(out_); }

private:
  std::string out_;
  std::string name_;
};

inline constexpr const char* fixed_scopes[] = {
    "system", "transient", "allowlisted_system", "allowlisted_transient"};
inline constexpr const char* directions[] = {"inbound", "outbound"};
inline constexpr const char* limit_names[] = {
    "conns",   "conns_inbound",   "conns_outbound",
    "streams", "streams_inbound", "streams_outbound",
    "fd",      "memory"};

/// A list of {scope, resource, dir?, count} summed by go's labels
/// (dir, scope, resource).
void blocked_samples(exposition& out, const json* list);

/// A histogram of the dump: its bounds, its count per bucket (the last
/// above every bound) and the sum of its values.
struct dump_histogram {
  std::vector<std::uint64_t> bounds;
  std::vector<std::uint64_t> counts;
  std::uint64_t sum = 0;
};

/// Reads {bounds, counts, count, sum}; nothing when it is malformed.
std::optional<dump_histogram> read_histogram(const json* h);

/// A dump value as sample text.
using value_text_fn = std::string (*)(std::uint64_t);
std::string integer_text(std::uint64_t value);
/// Milliseconds as seconds, in the shortest text that reads back the same.
std::string seconds_text(std::uint64_t ms);

/// The samples of one histogram: cumulative buckets (`base` and `le`), sum
/// and count, its bounds and sum written by `bound_text` and `sum_text`.
void histogram_samples(exposition& out, const label_list& base,
                       const std::vector<std::uint64_t>& bounds,
                       const std::vector<std::uint64_t>& counts, std::uint64_t sum,
                       value_text_fn bound_text, value_text_fn sum_text);

/// go-libp2p's families (libp2p_rcmgr_*), from the dump part `scopes` (null
/// when absent): usage, blocked resources, limits, histograms.
void libp2p_families(exposition& out, const json* scopes, histogram_carry& carry);

/// This project's families (rcmgr_*), from the other parts.
void rcmgr_families(exposition& out, const json& state);

} // namespace rcmgr::metrics_detail
