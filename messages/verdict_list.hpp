// A batch's verdicts, one per event, in event order, as the one-way reply
// carries them.
//
// Nearly every verdict of a busy batch is a plain allow or ok: such a verdict
// is kept as its kind alone (one byte), and only the others (a denial, a dry
// run's would-denial, an error) in full. A reply of 60 plain verdicts is 60
// bytes rather than 60 verdicts of 48 bytes for the gate to build and its
// caller to read and destroy (docs/benchmarks.md, "One-way batch replies as a
// verdict_list").
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/verdict.hpp"

namespace rcmgr {

class verdict_list {
public:
  verdict_list() = default;
  /// The list of `vs`, in their order.
  verdict_list(std::vector<verdict> vs);
  verdict_list(std::initializer_list<verdict> vs)
      : verdict_list(std::vector<verdict>(vs)) {}

  /// Room for `n` verdicts.
  void reserve(std::size_t n) { kinds_.reserve(n); }
  /// Appends `v`: its kind alone when it is plain (no denial, no
  /// would-denial, no error text), else the whole verdict.
  void push_back(verdict v);
  /// Appends a plain verdict of kind `k` (nothing else to keep).
  void push_plain(verdict_kind k) { kinds_.push_back(k); }

  std::size_t size() const { return kinds_.size(); }
  bool empty() const { return kinds_.empty(); }
  /// The kind of verdict `k` (`k < size()`).
  verdict_kind kind(std::size_t k) const { return kinds_[k]; }
  /// Verdict `k` (`k < size()`), equal to the one pushed. A list read off
  /// the wire may name its full verdicts out of order, twice or past its
  /// size: each walk (`each`, `drain`, `to_vector`) takes them in the order
  /// given while they name the next index, and reads every other verdict
  /// as plain; never a read out of bounds. Reading by index walks up to `k`.
  verdict operator[](std::size_t k) const;
  /// The verdicts, in order.
  std::vector<verdict> to_vector() const;

  /// Calls `f(k, const verdict&)` for each verdict in order.
  template <class F> void each(F f) const {
    std::size_t next = 0;
    for (std::size_t k = 0; k < kinds_.size(); ++k) {
      auto j = take_full(k, next);
      if (j != plain_verdict)
        f(k, full_[j]);
      else
        f(k, plain(kinds_[k]));
    }
  }
  /// The same, the full verdicts moved out: `f(k, verdict&&)`. (The list
  /// keeps its kinds, and its full verdicts as moved-from.)
  template <class F> void drain(F f) {
    std::size_t next = 0;
    for (std::size_t k = 0; k < kinds_.size(); ++k) {
      auto j = take_full(k, next);
      if (j != plain_verdict)
        f(k, std::move(full_[j]));
      else
        f(k, plain(kinds_[k]));
    }
  }

  /// The same verdicts (kind, would-denial, denial and error of each).
  friend bool operator==(const verdict_list& a, const verdict_list& b);
  friend bool operator!=(const verdict_list& a, const verdict_list& b) {
    return !(a == b);
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, verdict_list& x) {
    return f(caf::meta::type_name("verdict_list"), x.kinds_, x.full_at_, x.full_);
  }

private:
  static verdict plain(verdict_kind k) { return verdict{k, false, {}, {}}; }

  static constexpr std::size_t plain_verdict = static_cast<std::size_t>(-1);
  /// In a walk at verdict `k` with `next` full verdicts taken: the index in
  /// `full_` of verdict `k` (and `next` moves on), or `plain_verdict`.
  std::size_t take_full(std::size_t k, std::size_t& next) const {
    if (next < full_at_.size() && full_at_[next] == k && next < full_.size())
      return next++;
    return plain_verdict;
  }

  std::vector<verdict_kind> kinds_;
  /// The indices of the verdicts kept in full, ascending, and those verdicts.
  std::vector<std::uint32_t> full_at_;
  std::vector<verdict> full_;
};

/// Whether `v` is its kind alone: what `verdict_list` keeps as a byte.
inline bool is_plain(const verdict& v) {
  return !v.would_deny && v.why.empty() && v.error.empty();
}

} // namespace rcmgr
