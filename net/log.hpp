// The net layer's log: a hook the node's owner sets, and a bounded
// asynchronous log to back it.
//
// The node calls its hook on the io thread, so a hook must return at once:
// one that waits on a pipe nobody drains would stall every connection.
// async_log is such a hook: push() copies the line into a bounded queue and
// returns; a thread of its own hands the lines to a sink that may block.
// When the queue is full the line is dropped and counted, and the sink's
// next line says how many were lost.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace rcmgr::net {

enum class log_level : std::uint8_t { debug, info, warning, error };

std::string_view to_string(log_level x);

/// Receives a log line (no trailing newline). Called on the io thread: it
/// must not block.
using log_hook = std::function<void(log_level, std::string_view text)>;

class async_log {
public:
  struct limits {
    /// Lines waiting for the sink; a push beyond this drops its line.
    std::size_t max_lines = 1024;
    /// A longer line is cut here, and the cut is noted in the line.
    std::size_t max_line_bytes = 1024;
  };

  /// Gets each line on the log's own thread, in push order; may block.
  using sink_fn = std::function<void(log_level, const std::string& line)>;

  explicit async_log(sink_fn sink);
  async_log(sink_fn sink, limits lim);
  /// Hands every line still queued to the sink, then joins the thread.
  ~async_log();

  async_log(const async_log&) = delete;
  async_log& operator=(const async_log&) = delete;

  /// Queues a line; false when it was dropped (the queue is full).
  bool push(log_level level, std::string_view text);
  /// A hook that pushes here. It must not outlive this log.
  log_hook hook();
  /// Waits until the sink has taken every line pushed before the call (or
  /// dropped it). Blocks: never call it on the io thread.
  void flush();

  std::uint64_t dropped() const;
  const limits& bounds() const { return lim_; }

  /// A sink that writes "PREFIX[level] line\n" to `out` (stderr, stdout).
  static sink_fn to_file(std::FILE* out, std::string prefix);

private:
  struct entry {
    log_level level;
    std::string text;
  };

  void run();

  sink_fn sink_;
  limits lim_;
  mutable std::mutex mtx_;
  std::condition_variable wake_;    // the log thread: lines or stop
  std::condition_variable drained_; // flush(): the sink took lines
  std::deque<entry> queue_;
  std::uint64_t pushed_ = 0;   // lines accepted so far
  std::uint64_t taken_ = 0;    // lines the sink has finished with
  std::uint64_t dropped_ = 0;  // lines dropped so far
  std::uint64_t reported_ = 0; // drops the sink was told about
  bool stop_ = false;
  std::thread thread_;
};

} // namespace rcmgr::net
