#include "messages/verdict_list.hpp"

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
  // The walks' rule, walked up to `k` (a read by index is for tests and
  // diagnostics; the hot paths walk).
  std::size_t next = 0;
  for (std::size_t j = 0; j < k; ++j)
    take_full(j, next);
  auto i = take_full(k, next);
  return i != plain_verdict ? full_[i] : plain(kinds_[k]);
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
