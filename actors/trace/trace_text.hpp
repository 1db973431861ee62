// A batch entry's trace line written straight as text: the same bytes as
// trace_line gives (docs/trace.md), without a JSON value built, dumped and
// freed per line, which made tracing cost the gate ~6 us per batched event.
// Plain C++: no CAF, no clock.
#pragma once

#include <string>
#include <vector>

#include "messages/batches.hpp"
#include "messages/time.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// Appends entry `e`'s trace line and a '\n' to `block`, exactly as
/// `trace_line(since_start, trace_event_json(*batch_entry_event(...)), v)`
/// writes it. Text that JSON must escape, and a verdict other than a plain
/// allow or ok, take that general road. A bad entry (references outside the
/// batch, or a kind outside the enum) has no event form: nothing is appended
/// and the result is false.
bool append_trace_line(std::string& block, time_ns since_start, const text_table& texts,
                       const std::vector<text_ref>& lists, const batch_event& e,
                       const verdict& v);

/// The same for many entries at one time (a batch's): the time fields are
/// written once, not once per line.
class trace_text_writer {
public:
  explicit trace_text_writer(time_ns since_start);
  /// A writer for the entries of one batch, whose `texts` it reads once:
  /// when JSON writes every one of them as it is (the usual case), the lines
  /// of entries of that table do not check their texts again. (A batch names
  /// a peer or an address in two or three lines.)
  trace_text_writer(time_ns since_start, const text_table& texts);

  /// As append_trace_line at this writer's time.
  bool append(std::string& block, const text_table& texts,
              const std::vector<text_ref>& lists, const batch_event& e,
              const verdict& v) const;

private:
  time_ns since_start_;
  std::string head_; // {"t":MS,"t_ns":NS
  /// A table every text of which is plain; null when none was given or one
  /// of its texts is not.
  const text_table* plain_texts_ = nullptr;
};

} // namespace rcmgr
