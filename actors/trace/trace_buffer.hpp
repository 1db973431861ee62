// The decision trace's buffer (DESIGN §6.3): lines waiting to be written,
// bounded in bytes. Plain C++: no CAF, no clock, no file; the trace actor
// owns one, feeds it and flushes it to its file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "actors/trace/block_pool.hpp"
#include "messages/time.hpp"

namespace rcmgr {

/// What a trace buffer has done since it was made.
struct trace_counts {
  std::uint64_t written_lines = 0; // handed to a sink that took them
  std::uint64_t dropped_lines = 0; // refused by a full buffer, or by a source's backlog
  std::uint64_t lost_lines = 0;    // handed to a sink that failed
  std::uint64_t write_errors = 0;  // failed sink calls
  std::uint64_t late_lines = 0;    // older than a line already flushed
};

/// Takes a block of lines (each ending in '\n') as the pieces it is made
/// of, in order: the lines are written where they were buffered, never
/// copied into one string first. False if it failed.
using trace_sink = std::function<bool(const std::vector<std::string_view>&)>;

/// Lines keyed by their time. The gate and the rate limiter send theirs
/// independently, so lines can arrive slightly out of time order: a flush
/// writes the lines up to a time, sorted by time (equal times keep their
/// arrival order), and keeps the younger ones for the next flush.
class trace_buffer {
public:
  /// `capacity_bytes` counts each line with its '\n'.
  explicit trace_buffer(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}

  /// Buffers `line` (no '\n') at time `t`; a line that does not fit is
  /// dropped and counted: the buffer never blocks and never grows past its
  /// capacity.
  bool append(time_ns t, std::string line);

  /// Buffers `block`, `lines` lines each ending in '\n', at time `t` (a
  /// gate batch's lines, decided at one instant), whole or not at all.
  bool append_lines(time_ns t, std::string block, std::size_t lines);

  /// Hands every line with time <= `upto` to `sink` as one block, in time
  /// order; returns how many lines it handed over. A sink that fails loses
  /// them (counted).
  std::size_t flush(time_ns upto, const trace_sink& sink);
  /// Hands over every line.
  std::size_t flush_all(const trace_sink& sink) { return flush(time_max, sink); }

  /// Under pressure (at least half the capacity buffered), hands over the
  /// lines older than the newest one by more than `hold_back`: a trace of a
  /// busy gate fills the buffer long before the timer's flush, and would
  /// drop most of its lines otherwise. Once it has tried, the next relief
  /// waits until an eighth of the capacity more is buffered (or three
  /// quarters of it are used): a busy trace is written in pieces of that
  /// size, not one small write per block that arrives. Returns how many
  /// lines it handed over.
  std::size_t relieve(time_ns hold_back, const trace_sink& sink);

  /// Lines a source dropped before sending (its backlog was full).
  void count_dropped(std::uint64_t lines) { counts_.dropped_lines += lines; }

  std::size_t lines() const { return lines_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t capacity() const { return capacity_; }
  const trace_counts& counts() const { return counts_; }

  /// The blocks written, emptied with their capacity, for their sources to
  /// fill again (block_pool.hpp).
  block_pool& spent() { return spent_; }

private:
  struct entry {
    time_ns t;
    std::string text; // its lines, each ending in '\n'
    std::size_t lines;
  };
  std::size_t capacity_;
  std::size_t bytes_ = 0;
  std::size_t lines_ = 0;
  /// The latest time of a line buffered so far.
  time_ns newest_ = std::numeric_limits<time_ns>::min();
  std::vector<entry> entries_;
  std::vector<std::string_view> pieces_; // what a flush hands over
  /// The bytes buffered after the last relief (or less, after a flush).
  std::size_t relief_floor_ = 0;
  /// The latest time of a line handed over: a younger line is late.
  time_ns latest_written_ = std::numeric_limits<time_ns>::min();
  trace_counts counts_;
  block_pool spent_;
};

} // namespace rcmgr
