// The trace's actor shell: one trace_buffer; a flush on a delayed tick and
// when the sources are gone. File errors are counted, never thrown.
#include "actors/trace/trace_actor.hpp"

#include <algorithm>
#include <exception>
#include <vector>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/trace/trace_buffer.hpp"
#include "actors/trace/trace_file.hpp"
#include "messages/interfaces.hpp"
#include "messages/json.hpp"

namespace rcmgr {

namespace {

struct trace_state {
  trace_options opts;
  time_ns origin = 0;
  trace_buffer buffer{0};
  int fd = -1;
  std::vector<iovec> iov; // a write's pieces, kept from write to write
  std::size_t live_sources = 0;
  bool leaving = false;
  bool closed = false;
  static inline const char* name = "rcmgr.trace";

  ~trace_state() { close(); }

  bool write(const std::vector<std::string_view>& pieces) {
    if (fd < 0)
      return false;
    return write_pieces(pieces, iov, [this](const iovec* v, int count) {
      return ::writev(fd, v, count);
    });
  }

  /// A block of lines from a source: buffered, and written at once if the
  /// buffer is under pressure.
  void take_lines(time_ns t, std::string block, std::uint64_t lines) {
    buffer.append_lines(t, std::move(block), lines);
    relieve();
  }

  void flush(time_ns upto) {
    try {
      buffer.flush(upto,
                   [this](const std::vector<std::string_view>& p) { return write(p); });
    } catch (const std::exception&) {
      // Out of memory for the block: the lines stay buffered (and the buffer
      // bounded) for the next flush; nothing is thrown on the actor's thread.
    }
  }

  void relieve() {
    try {
      buffer.relieve(ms_to_ns(opts.pressure_hold_back.count()),
                     [this](const std::vector<std::string_view>& p) { return write(p); });
    } catch (const std::exception&) {
      // As in flush: the lines stay buffered.
    }
  }

  void close() {
    if (closed)
      return;
    closed = true;
    flush(time_max);
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
};

using trace_self = trace_actor::stateful_pointer<trace_state>;

time_ns since_origin(trace_self self) {
  return now_ns(self) - self->state.origin;
}

void finish(trace_self self, const caf::error& reason) {
  self->state.close();
  self->quit(reason);
}

trace_actor::behavior_type trace_impl(trace_self self, trace_options opts,
                                      time_ns origin) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.origin = origin;
  st.buffer = trace_buffer{st.opts.buffer_bytes};
  st.fd = ::open(st.opts.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  self->set_down_handler([self](const caf::down_msg&) {
    auto& st = self->state;
    if (st.live_sources > 0)
      --st.live_sources;
    if (st.leaving && st.live_sources == 0)
      finish(self, caf::exit_reason::user_shutdown);
  });
  self->set_exit_handler([self](caf::exit_msg& m) {
    // The sources' last lines may still be on their way: stop once they
    // are gone (their down messages come after their last lines).
    auto& st = self->state;
    st.leaving = true;
    if (st.live_sources == 0)
      finish(self, m.reason);
  });
  self->delayed_send(self, st.opts.flush_interval, tick_atom::value);
  return {
      [self](trace_atom, time_ns t, std::string& line) {
        auto& st = self->state;
        st.buffer.append(t, std::move(line));
        st.relieve();
      },
      [self](trace_atom, time_ns t, std::string& block, std::uint64_t lines) {
        self->state.take_lines(t, std::move(block), lines);
      },
      [self](trace_atom, confirm_atom, time_ns t, std::string& block, std::uint64_t lines,
             std::uint64_t want) {
        auto& st = self->state;
        st.take_lines(t, std::move(block), lines);
        return st.buffer.spent().take_up_to(want);
      },
      [self](trace_atom, dropped_atom, std::uint64_t lines) {
        self->state.buffer.count_dropped(lines);
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.flush(since_origin(self) - ms_to_ns(st.opts.hold_back.count()));
        self->delayed_send(self, st.opts.flush_interval, tick_atom::value);
      },
      [self](monitor_atom, const caf::actor& source) {
        if (!source)
          return;
        ++self->state.live_sources;
        self->monitor(source);
      },
      [self](dump_part_atom) {
        auto& st = self->state;
        auto& c = st.buffer.counts();
        nlohmann::json part{{"trace",
                             {{"file", st.opts.file},
                              {"open", st.fd >= 0},
                              {"written_lines", c.written_lines},
                              {"dropped_lines", c.dropped_lines},
                              {"lost_lines", c.lost_lines},
                              {"write_errors", c.write_errors},
                              {"late_lines", c.late_lines},
                              {"buffered_lines", st.buffer.lines()},
                              {"buffered_bytes", st.buffer.bytes()},
                              {"buffer_bytes", st.buffer.capacity()}}}};
        return dump_text(part);
      },
  };
}

} // namespace

trace_hook start_trace(caf::actor_system& sys, trace_options opts) {
  trace_hook hook;
  hook.origin = trace_clock_now(sys);
  // A source may have as much on its way as the buffer holds.
  hook.max_backlog_bytes = opts.buffer_bytes;
  hook.actor = sys.spawn(trace_impl, std::move(opts), hook.origin);
  return hook;
}

time_ns trace_clock_now(caf::actor_system& sys) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             sys.clock().now().time_since_epoch())
      .count();
}

} // namespace rcmgr
