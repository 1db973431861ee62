// The gate's actor shell: the rules are gate_policy's; the shell keeps the
// subscribers and the held outcomes (actors/gate/held_outcomes.hpp), and maps
// each message to one call.
#include "actors/gate/gate_actor.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <caf/all.hpp>

#include "actors/gate/gate_json.hpp"
#include "actors/gate/gate_policy.hpp"
#include "actors/gate/held_outcomes.hpp"
#include "actors/memory/memory_sources.hpp"
#include "actors/trace/trace_lines.hpp"
#include "actors/trace/trace_text.hpp"

namespace rcmgr {

namespace {

/// A reply that waits for the held outcomes to be published: a response
/// promise (the request form) or an `event_verdict` to send (the one-way form).
struct held_reply {
  caf::typed_response_promise<verdict> promise;
  verdict result;
  bool oneway = false;
  correlation_id id = 0;
  verdict_listener reply_to;

  static held_reply request(caf::typed_response_promise<verdict> p, verdict v) {
    held_reply r;
    r.promise = std::move(p);
    r.result = std::move(v);
    return r;
  }
  static held_reply one_way(correlation_id id, verdict_listener to, verdict v) {
    held_reply r;
    r.result = std::move(v);
    r.oneway = true;
    r.id = id;
    r.reply_to = std::move(to);
    return r;
  }
};

struct gate_state {
  gate_policy policy;
  /// What "scopes_scale": "auto" was last resolved with (the trace writes
  /// the scale it gave, so that a replay on another machine has the same).
  scale_readings readings;
  std::vector<lifecycle_listener> subscribers;
  held_outcomes<held_reply> held;
  gate_options opts;
  /// What the trace has not yet taken of the lines sent to it.
  trace_backlog trace_sent;
  /// Blocks the trace has written and handed back, to fill again.
  block_pool trace_blocks;
  /// Where a batch's lines are written before they go into a block.
  scratch_block trace_scratch;
  static inline const char* name = "rcmgr.gate";
};

using gate_self = gate_actor::stateful_pointer<gate_state>;

/// Sends one message to every subscriber. The payload is made once and
/// shared (CAF messages are reference-counted and read-only to receivers),
/// rather than copied per subscriber with its strings.
template <class Message> void send_to_subscribers(gate_self self, Message msg) {
  auto shared = caf::make_message(std::move(msg));
  for (auto& s : self->state.subscribers) {
    auto dest = caf::actor_cast<caf::strong_actor_ptr>(s);
    dest->enqueue(
        caf::make_mailbox_element(self->ctrl(), caf::make_message_id(), {}, shared),
        self->context());
  }
}

/// Publishes the held outcomes (one message per subscriber; the single form
/// for one outcome), then sends the held replies in order.
void publish_held(gate_self self) {
  auto [out, replies] = self->state.held.take();
  if (!out.empty() && !self->state.subscribers.empty()) {
    if (out.order.size() == 1)
      with_single_form(out, [&](auto msg) { send_to_subscribers(self, std::move(msg)); });
    else
      send_to_subscribers(self, std::move(out));
  }
  for (auto& r : replies) {
    if (!r.oneway)
      r.promise.deliver(std::move(r.result));
    else if (r.reply_to)
      self->send(r.reply_to, event_verdict{r.id, std::move(r.result)});
  }
  self->state.held.recycle(std::move(replies));
}

// -- every handler publishes what is held once the gate is idle -------------------

/// Ends a handler: publishes what is held when the gate has nothing left to
/// read (or holds the most it may), so whatever message the gate reads last,
/// nothing stays held: a held reply is a caller waiting.
struct idle_publisher {
  gate_self self;
  idle_publisher(const idle_publisher&) = delete;
  idle_publisher& operator=(const idle_publisher&) = delete;
  ~idle_publisher() {
    if (self->state.held.publish_due([this] { return self->mailbox().empty(); }))
      publish_held(self);
  }
};

/// `f` with an idle_publisher around it, taking exactly `f`'s arguments (so
/// that CAF sees the same handler signature).
template <class F, class R, class C, class... Ts>
auto publishing(gate_self self, F f, R (C::*)(Ts...) const) {
  return [self, f = std::move(f)](Ts... xs) -> R {
    idle_publisher idle{self};
    return f(std::forward<Ts>(xs)...);
  };
}

template <class F> auto publishing(gate_self self, F f) {
  return publishing(self, std::move(f), &F::operator());
}

/// The gate's behaviour: every handler wrapped by `publishing`.
template <class... Fs>
gate_actor::behavior_type publishing_behavior(gate_self self, Fs... fs) {
  return {publishing(self, std::move(fs))...};
}

// -- the decision trace --------------------------------------------------------------

/// The trace's answers are read like any message: the last one the gate
/// reads must publish what is held, as every handler does.
struct after_trace_answer {
  gate_self self;
  void operator()() const { idle_publisher idle{self}; }
};

/// Sends an input and its verdict to the trace; call only when there is one.
void trace_decision(gate_self self, time_ns now, const nlohmann::json& event,
                    const verdict& v) {
  auto& tr = self->state.opts.trace;
  auto t = now - tr.origin;
  auto line = trace_line(t, event, v);
  line += '\n';
  send_trace_lines(self, self->state.trace_sent, tr, t, std::move(line), 1,
                   after_trace_answer{self}, &self->state.trace_blocks);
}

template <class Event>
void trace_if_set(gate_self self, time_ns now, const Event& ev, const verdict& v) {
  if (self->state.opts.trace)
    trace_decision(self, now, trace_event_json(input_event{ev}), v);
}

/// The same at the time now; the clock is read only when tracing.
template <class Event>
void trace_if_set(gate_self self, const Event& ev, const verdict& v) {
  if (self->state.opts.trace)
    trace_decision(self, now_ns(self), trace_event_json(input_event{ev}), v);
}

// -- lifecycle events ---------------------------------------------------------------

/// A single event's outcome is held (see held_outcomes.hpp); with no
/// subscriber and nothing held, nothing is kept. Returns the verdict when it
/// may go out at once; else `hold` has taken it, to go out after the outcomes.
/// The event is read in place (`event_view`): no text leaves the message.
template <class Event, class Hold>
std::optional<verdict> decide_single(gate_self self, const Event& ev, Hold&& hold) {
  auto& st = self->state;
  event_view e{ev};
  auto now = now_ns(self);
  if (st.subscribers.empty() && st.held.empty()) {
    no_sink sink{e.peer};
    auto v = st.policy.decide(e.kind, e.conn, sink, now, e.usefd, e.remote);
    trace_if_set(self, now, ev, v);
    return v;
  }
  auto be = st.held.open(e);
  auto writer = st.held.writer();
  batch_sink sink{writer, be};
  auto v = st.policy.decide(be.kind, be.conn(), sink, now, be.usefd(), e.remote);
  trace_if_set(self, now, ev, v);
  if (!st.held.close())
    return v;
  hold(std::move(v));
  return std::nullopt;
}

/// The handler of one kind of single event.
template <class Event> auto single_event_handler(gate_self self) {
  return [self](const Event& ev) -> caf::result<verdict> {
    caf::typed_response_promise<verdict> promise;
    auto v = decide_single(self, ev, [&](verdict held) {
      promise = self->make_response_promise<verdict>();
      self->state.held.hold(held_reply::request(promise, std::move(held)));
    });
    if (v)
      return std::move(*v);
    return promise;
  };
}

/// The one-way form: the same decision, answered with an `event_verdict`
/// that keeps its place among the held replies (after the outcomes).
template <class Event> auto oneway_event_handler(gate_self self) {
  return [self](oneway<Event>& ow) {
    auto v = decide_single(self, ow.event, [&](verdict held) {
      self->state.held.hold(
          held_reply::one_way(ow.id, std::move(ow.reply_to), std::move(held)));
    });
    if (v && ow.reply_to)
      self->send(ow.reply_to, event_verdict{ow.id, std::move(*v)});
  };
}

/// The handler of one kind of stream or memory event: decided by the scopes,
/// answered at once (nothing is published for it). What is held goes first,
/// so that a caller's replies come in the order of its requests.
template <class Event> auto scope_event_handler(gate_self self) {
  return [self](const Event& ev) {
    auto& st = self->state;
    if (!st.held.empty())
      publish_held(self);
    auto now = now_ns(self);
    auto v = st.policy.decide_scope(scope_event_of(ev), now);
    trace_if_set(self, now, ev, v);
    return v;
  };
}

/// A batch's outcomes refer to the batch's own text table, moved over: no
/// string is copied. Events, admissions and outcomes are moved along rather
/// than copied: each copy of a 52-character peer id or an address is a heap
/// block, and these copies led the batched lifecycle profile.
verdict_list decide_batch(gate_self self, lifecycle_batch& batch) {
  auto& st = self->state;
  // Outcomes reach subscribers in event order, and replies reach a caller in
  // the order of its requests: what is held goes first.
  if (!st.held.empty())
    publish_held(self);
  outcome_batch out;
  // A batch is decided at one instant: one clock read, not three per event.
  auto now = now_ns(self);
  auto verdicts = st.policy.decide_batch(batch, out, now);
  if (auto& tr = st.opts.trace) {
    // One line per entry (a bad entry decides nothing and has no event
    // form), written as text into the scratch, then copied into one block:
    // one message per batch.
    trace_text_writer writer{now - tr.origin, out.texts};
    auto& text = st.trace_scratch.start(batch.events.size() * 256);
    std::uint64_t lines = 0;
    verdicts.each([&](std::size_t k, const verdict& v) {
      lines += writer.append(text, out.texts, out.lists, batch.events[k], v);
    });
    if (lines > 0)
      send_trace_lines(self, st.trace_sent, tr, now - tr.origin,
                       st.trace_scratch.finish(st.trace_blocks), lines,
                       after_trace_answer{self}, &st.trace_blocks);
  }
  if (!out.empty() && !st.subscribers.empty())
    send_to_subscribers(self, std::move(out));
  return verdicts;
}

// -- subscribers ----------------------------------------------------------------------

// A subscriber hears the outcomes of the events decided while it is
// subscribed: what is held goes out before the list changes. One that went
// away is dropped.

void subscribe(gate_self self, const lifecycle_listener& l) {
  if (!self->state.held.empty())
    publish_held(self);
  if (!l)
    return;
  self->monitor(l);
  self->state.subscribers.push_back(l);
}

void drop_subscriber(gate_self self, const caf::actor_addr& who) {
  auto& subs = self->state.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const lifecycle_listener& s) {
                              return caf::actor_cast<caf::actor_addr>(s) == who;
                            }),
             subs.end());
}

void unsubscribe(gate_self self, const lifecycle_listener& l) {
  if (!self->state.held.empty())
    publish_held(self);
  drop_subscriber(self, caf::actor_cast<caf::actor_addr>(l));
}

scale_readings current_readings(const gate_options& opts) {
  return opts.scope_readings ? *opts.scope_readings : read_scale_readings();
}

/// A config update; "auto" scopes read the system again.
void configure(gate_self self, const node_config& c) {
  auto& st = self->state;
  if (c.has_scopes) {
    st.readings = current_readings(st.opts);
    st.policy.set_scale_readings(st.readings);
  }
  st.policy.configure(c);
}

/// A config as the trace writes it: an "auto" scopes_scale becomes the scale
/// it resolved to here.
node_config traced_config(gate_self self, node_config c) {
  if (c.has_scopes && c.scopes_scale.automatic) {
    auto& r = self->state.readings;
    auto by = scale_for(c.scopes_scale, r.physical_memory, r.cgroup_memory_max,
                        r.nofile_soft_limit);
    c.scopes_scale = scopes_scale_config{false, by.memory_bytes, by.fds};
  }
  return c;
}

gate_actor::behavior_type gate_impl(gate_self self, node_config cfg, gate_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.trace_sent = trace_backlog{st.opts.trace.max_backlog_bytes};
  configure(self, cfg);
  if (auto& tr = st.opts.trace) // the trace's first line: the config in force
    self->send(tr.actor, trace_atom::value, time_ns{0},
               trace_line(0, trace_event_json(input_event{traced_config(self, cfg)}),
                          verdict::ok()));
  self->set_down_handler(publishing(
      self, [self](const caf::down_msg& dm) { drop_subscriber(self, dm.source); }));
  self->set_default_handler(publishing(
      self,
      [](caf::scheduled_actor* p, caf::message_view& x) -> caf::result<caf::message> {
        return caf::print_and_drop(p, x);
      }));
  self->set_exit_handler([self](caf::exit_msg& m) {
    // Leaving: nothing stays held, whatever else is queued.
    if (!self->state.held.empty())
      publish_held(self);
    caf::scheduled_actor::default_exit_handler(self, m);
  });
  auto& policy = st.policy;
  // CAF 0.17 tries the handlers in this order, and every miss on a message of
  // one user type is a type_info comparison by name (strcmp): the frequent
  // messages come first (a node's inbound connection events, each form beside
  // the other, then the batches its net layer sends), so that a batch
  // sent one way pays six misses rather than twenty-one.
  return publishing_behavior(
      self, oneway_event_handler<pending_inbound>(self),
      single_event_handler<pending_inbound>(self),
      oneway_event_handler<established_inbound>(self),
      single_event_handler<established_inbound>(self),
      oneway_event_handler<connection_closed>(self),
      single_event_handler<connection_closed>(self),
      [self](oneway_batch& ow) {
        auto vs = decide_batch(self, ow.batch);
        if (ow.reply_to)
          self->send(ow.reply_to, batch_verdicts{ow.id, std::move(vs)});
      },
      [self](lifecycle_batch& b) { return decide_batch(self, b).to_vector(); },
      oneway_event_handler<pending_outbound>(self),
      single_event_handler<pending_outbound>(self),
      oneway_event_handler<established_outbound>(self),
      single_event_handler<established_outbound>(self),
      oneway_event_handler<dial_failure>(self), single_event_handler<dial_failure>(self),
      oneway_event_handler<listen_failure>(self),
      single_event_handler<listen_failure>(self),
      scope_event_handler<stream_opened>(self),
      scope_event_handler<stream_protocol>(self),
      scope_event_handler<stream_service>(self), scope_event_handler<stream_closed>(self),
      scope_event_handler<reserve_memory>(self),
      scope_event_handler<release_memory>(self),
      [self](const bypass_peer& x) {
        auto v = self->state.policy.add_bypass(x.peer);
        trace_if_set(self, x, v);
        return v;
      },
      [self](const remove_bypass& x) {
        auto v = self->state.policy.remove_bypass(x.peer);
        trace_if_set(self, x, v);
        return v;
      },
      [&policy](get_atom, bypass_atom) { return policy.bypass_peers(); },
      [&policy](get_atom, counts_atom) { return policy.counts(); },
      [self](const node_config& c) {
        configure(self, c);
        if (self->state.opts.trace)
          trace_if_set(self, traced_config(self, c), verdict::ok());
        return verdict::ok();
      },
      [self](const memory_sample& s) {
        self->state.policy.on_memory_sample(s);
        trace_if_set(self, s, verdict::ok());
      },
      [&policy](const anomaly_report& r) { policy.on_anomaly(r.kind); },
      [self](const peer_blocked& b) {
        auto now = now_ns(self);
        self->state.policy.on_peer_blocked(b, now);
        if (auto& tr = self->state.opts.trace)
          trace_decision(self, now, peer_blocked_json(b.peer, b.until - tr.origin),
                         verdict::ok());
      },
      [self](subscribe_atom, const lifecycle_listener& l) { subscribe(self, l); },
      [self](unsubscribe_atom, const lifecycle_listener& l) { unsubscribe(self, l); },
      [self](dump_part_atom) {
        auto& st = self->state;
        auto now = now_ns(self);
        return gate_dump_part(st.policy.stats(now), st.subscribers.size(),
                              st.policy.scopes_json(now, st.opts.dump_list_cap),
                              st.policy.ip_limits_json(now, st.opts.dump_list_cap));
      });
}

} // namespace

scale_readings read_scale_readings() {
  scale_readings r;
  if (auto total = read_system_total("/"))
    r.physical_memory = *total;
  if (auto cg = read_cgroup_memory("/"); cg && cg->found)
    r.cgroup_memory_max = cg->limit;
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    r.nofile_soft_limit =
        nofile.rlim_cur == RLIM_INFINITY
            ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
            : static_cast<std::uint64_t>(nofile.rlim_cur);
  }
  return r;
}

gate_actor spawn_gate(caf::actor_system& sys, const node_config& cfg, gate_options opts) {
  return sys.spawn(gate_impl, cfg, std::move(opts));
}

} // namespace rcmgr
