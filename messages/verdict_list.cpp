#include "messages/verdict_list.hpp"

#include <algorithm>

namespace rcmgr {

verdict_list::verdict_list(std::vector<verdict> vs) {
  reserve(vs.size());
  for (auto& v : vs)
    push_back(std::move(v));
}

void verdict_list::push_back(verdict v) {
  if (!is_plain(v)) {
    full_at_.push_back(static_cast<std::uint32_t>(kinds_.size()));
    full_.push_back(std::move(v));
    kinds_.push_back(full_.back().kind);
    return;
  }
  kinds_.push_back(v.kind);
}

verdict verdict_list::operator[](std::size_t k) const {
  // What the walks take: the longest prefix of the full verdicts' indices
  // that ascends (and has its verdicts), in which `k` is looked up.
  std::size_t taken = 0;
  auto limit = std::min(full_at_.size(), full_.size());
  while (taken < limit && full_at_[taken] < size() &&
         (taken == 0 || full_at_[taken] > full_at_[taken - 1]))
    ++taken;
  auto end = full_at_.begin() + static_cast<std::ptrdiff_t>(taken);
  auto i = std::lower_bound(full_at_.begin(), end, k);
  if (i != end && *i == k)
    return full_[static_cast<std::size_t>(i - full_at_.begin())];
  return plain(kinds_[k]);
}

std::vector<verdict> verdict_list::to_vector() const {
  std::vector<verdict> out;
  out.reserve(size());
  each([&](std::size_t, const verdict& v) { out.push_back(v); });
  return out;
}

bool operator==(const verdict_list& a, const verdict_list& b) {
  if (a.size() != b.size())
    return false;
  auto xs = a.to_vector();
  bool same = true;
  b.each([&](std::size_t k, const verdict& y) {
    auto& x = xs[k];
    same = same && x.kind == y.kind && x.would_deny == y.would_deny && x.why == y.why &&
           x.error == y.error;
  });
  return same;
}

} // namespace rcmgr
