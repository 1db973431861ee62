// Which resource actors have stopped abnormally, and why: plain C++.
//
// The runtime watches every resource actor. An actor that stops for any
// reason other than a shutdown (an exception in a handler, a kill) is a
// fault: it is recorded here, named in the state dump under "faults", and
// reported to the runtime's fault hook.
#pragma once

#include <string>
#include <vector>

#include "messages/ids.hpp"

namespace rcmgr {

struct actor_fault {
  std::string part;   // the actor's name in the dump ("gate", "tracker", ...)
  std::string reason; // CAF's exit reason as text, e.g. "unhandled_exception"
  time_ns at = 0;
};

class fault_log {
public:
  /// Records that `part` stopped for `reason` at `at`. A stop that is part
  /// of a shutdown (`normal`) is no fault: nothing is recorded and false is
  /// returned. A part is recorded once; a second stop of the same name (it
  /// cannot happen for one actor) keeps the first.
  bool on_stop(const std::string& part, const std::string& reason, bool normal,
               time_ns at);

  const std::vector<actor_fault>& faults() const { return faults_; }

  /// The dump part: `{}` when nothing failed, so a healthy node's dump is
  /// unchanged; else `{"faults": {"<part>": {"reason": R, "age_ms": N}}}`.
  std::string dump_part(time_ns now) const;

private:
  std::vector<actor_fault> faults_;
};

} // namespace rcmgr
