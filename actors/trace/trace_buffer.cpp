#include "actors/trace/trace_buffer.hpp"

#include <algorithm>

namespace rcmgr {

bool trace_buffer::append(time_ns t, std::string line) {
  auto size = line.size() + 1;
  if (size > capacity_ - std::min(capacity_, bytes_)) {
    ++counts_.dropped_lines;
    return false;
  }
  if (t < latest_written_)
    ++counts_.late_lines; // written anyway, after younger lines: replay says so
  bytes_ += size;
  entries_.push_back(entry{t, std::move(line)});
  return true;
}

std::size_t trace_buffer::flush(time_ns upto, const trace_sink& sink) {
  // Lines mostly arrive in order: the stable sort is nearly linear then.
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const entry& a, const entry& b) { return a.t < b.t; });
  auto end = std::upper_bound(entries_.begin(), entries_.end(), upto,
                              [](time_ns u, const entry& e) { return u < e.t; });
  auto n = static_cast<std::size_t>(end - entries_.begin());
  if (n == 0)
    return 0;
  std::string block;
  std::size_t block_bytes = 0;
  for (auto i = entries_.begin(); i != end; ++i)
    block_bytes += i->line.size() + 1;
  block.reserve(block_bytes);
  for (auto i = entries_.begin(); i != end; ++i) {
    block += i->line;
    block += '\n';
  }
  latest_written_ = std::max(latest_written_, std::prev(end)->t);
  entries_.erase(entries_.begin(), end);
  bytes_ -= block_bytes;
  if (sink && sink(block)) {
    counts_.written_lines += n;
  } else {
    ++counts_.write_errors;
    counts_.lost_lines += n;
  }
  return n;
}

} // namespace rcmgr
