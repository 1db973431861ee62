#include "actors/trace/trace_buffer.hpp"

#include <algorithm>

namespace rcmgr {

bool trace_buffer::append(time_ns t, std::string line) {
  line += '\n';
  return append_lines(t, std::move(line), 1);
}

bool trace_buffer::append_lines(time_ns t, std::string block, std::size_t lines) {
  if (lines == 0)
    return true;
  auto size = block.size();
  if (size > capacity_ - std::min(capacity_, bytes_)) {
    counts_.dropped_lines += lines;
    return false;
  }
  if (t < latest_written_)
    counts_.late_lines += lines; // written anyway, after younger lines: replay says so
  bytes_ += size;
  lines_ += lines;
  newest_ = std::max(newest_, t);
  entries_.push_back(entry{t, std::move(block), lines});
  return true;
}

std::size_t trace_buffer::flush(time_ns upto, const trace_sink& sink) {
  // Lines mostly arrive in order: checked first, sorted only when they did
  // not (a stable sort allocates its buffer every time).
  auto earlier = [](const entry& a, const entry& b) { return a.t < b.t; };
  if (!std::is_sorted(entries_.begin(), entries_.end(), earlier))
    std::stable_sort(entries_.begin(), entries_.end(), earlier);
  auto end = std::upper_bound(entries_.begin(), entries_.end(), upto,
                              [](time_ns u, const entry& e) { return u < e.t; });
  if (end == entries_.begin())
    return 0;
  pieces_.clear();
  std::size_t block_bytes = 0;
  std::size_t lines = 0;
  for (auto i = entries_.begin(); i != end; ++i) {
    block_bytes += i->text.size();
    lines += i->lines;
    pieces_.emplace_back(i->text);
  }
  latest_written_ = std::max(latest_written_, std::prev(end)->t);
  if (sink && sink(pieces_)) {
    counts_.written_lines += lines;
  } else {
    ++counts_.write_errors;
    counts_.lost_lines += lines;
  }
  pieces_.clear();
  for (auto i = entries_.begin(); i != end; ++i)
    spent_.give(std::move(i->text));
  entries_.erase(entries_.begin(), end);
  bytes_ -= block_bytes;
  lines_ -= lines;
  relief_floor_ = std::min(relief_floor_, bytes_);
  return lines;
}

std::size_t trace_buffer::relieve(time_ns hold_back, const trace_sink& sink) {
  if (bytes_ < capacity_ / 2 || entries_.empty())
    return 0;
  // Near full, no waiting for the eighth: a line dropped costs more than a
  // small write.
  if (bytes_ - relief_floor_ < capacity_ / 8 && bytes_ < capacity_ - capacity_ / 4)
    return 0;
  auto n = flush(add_saturating(newest_, -hold_back), sink);
  relief_floor_ = bytes_;
  return n;
}

} // namespace rcmgr
