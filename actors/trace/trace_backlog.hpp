// What one source (the gate, the rate limiter) has sent to the trace actor
// and not yet seen taken: plain C++, no CAF.
//
// The trace actor writes its file on its own thread; a disk that blocks its
// writes stops it, and the lines sent meanwhile would wait in its mailbox
// without a bound. So each source bounds its backlog in bytes: every
// `confirm_every` bytes, a block goes as a request whose answer says the
// trace actor has taken everything up to it (a source's messages keep their
// order); a block that would take the backlog past `max_bytes` is dropped
// and counted, never waited for. The counts go to the trace actor as
// requests too, one at a time, so that its `dropped_lines` holds every line
// lost once it has read its mailbox, and the reports cannot pile up either.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace rcmgr {

class trace_backlog {
public:
  static constexpr std::size_t default_max_bytes = 8 << 20;
  static constexpr std::size_t default_confirm_every = 1 << 20;

  explicit trace_backlog(std::size_t max_bytes = default_max_bytes,
                         std::size_t confirm_every = default_confirm_every)
      : max_bytes_(max_bytes == 0 ? 1 : max_bytes),
        // At most half the bound: a full backlog always has a confirmation
        // on its way, whose answer lets blocks through again.
        confirm_every_(
            std::max<std::size_t>(1, std::min(confirm_every, max_bytes_ / 2))) {}

  /// What to do with a block of `bytes` holding `lines` lines.
  struct decision {
    /// Send it (else it was dropped and counted).
    bool send = false;
    /// Send it as a request; its answer goes to `confirmed(*confirm)`.
    std::optional<std::uint64_t> confirm;
  };

  decision offer(std::size_t bytes, std::uint64_t lines) {
    decision d;
    if (bytes > max_bytes_ - std::min<std::uint64_t>(max_bytes_, backlog())) {
      dropped_ += lines;
      ++dropped_blocks_;
      return d;
    }
    d.send = true;
    sent_ += bytes;
    if (sent_ - last_mark_ >= confirm_every_) {
      last_mark_ = sent_;
      d.confirm = sent_;
    }
    return d;
  }

  /// The lines dropped since the last report, to report now; 0 when there
  /// are none or a report is still on its way (`report_taken` ends it).
  std::uint64_t take_report() {
    if (report_out_ || dropped_ == reported_)
      return 0;
    report_out_ = true;
    auto n = dropped_ - reported_;
    reported_ = dropped_;
    return n;
  }
  void report_taken() { report_out_ = false; }

  /// The trace actor took everything up to `mark` bytes sent.
  void confirmed(std::uint64_t mark) {
    if (mark > taken_)
      taken_ = mark;
  }

  /// Bytes sent and not known to be taken.
  std::uint64_t backlog() const { return sent_ - taken_; }
  std::uint64_t dropped_lines() const { return dropped_; }
  std::uint64_t dropped_blocks() const { return dropped_blocks_; }

private:
  std::size_t max_bytes_;
  std::size_t confirm_every_;
  std::uint64_t sent_ = 0;
  std::uint64_t taken_ = 0;
  std::uint64_t last_mark_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_blocks_ = 0;
  std::uint64_t reported_ = 0;
  bool report_out_ = false;
};

} // namespace rcmgr
