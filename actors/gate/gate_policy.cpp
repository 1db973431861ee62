#include "actors/gate/gate_policy.hpp"

#include <algorithm>

#include "actors/gate/scopes/scopes_json.hpp"

namespace rcmgr {

void gate_policy::configure(const node_config& cfg) {
  limits_.set_limits(cfg.connection_limits);
  limits_.set_bypass_peers(cfg.bypass_peers);
  dry_run_ = cfg.dry_run;
  limits_.set_dry_run(cfg.dry(rule_family::connection_limits));
  memory_.configure(cfg.memory);
  has_ip_limits_ = cfg.ip_limits.present;
  has_attempt_rates_ = cfg.attempt_rates.present;
  ip_limits_.configure(cfg.ip_limits);
  attempts_.configure(cfg.attempt_rates);
  if (cfg.allowlist != allowlist_.entries())
    allowlist_.configure(cfg.allowlist);
  if (!cfg.has_scopes) {
    scopes_.reset();
    return;
  }
  auto by = scale_for(cfg.scopes_scale, readings_.physical_memory,
                      readings_.cgroup_memory_max, readings_.nofile_soft_limit);
  auto limits = resolve_scope_limits(cfg.scopes, by);
  scope_scale_info info{by.memory_bytes, by.fds,
                        cfg.scopes_scale.automatic ? "auto" : "config"};
  if (scopes_)
    scopes_->set_limits(std::move(limits), std::move(info));
  else
    scopes_ = std::make_unique<resource_scopes>(std::move(limits), std::move(info));
  scopes_->set_dry_run(cfg.dry(rule_family::scopes));
}

namespace {

/// A scope_event read through the accessors of scope_decision_of.
struct scope_event_entry {
  const scope_event& e;
  event_kind kind() const { return e.kind; }
  stream_id stream() const { return e.stream; }
  std::string_view peer() const { return e.peer; }
  std::string_view name() const { return e.name; }
  direction dir() const { return e.dir; }
  std::uint8_t priority() const { return e.priority; }
  std::uint64_t bytes() const { return e.bytes; }
  std::optional<connection_id> conn() const {
    return e.has_conn ? std::optional<connection_id>{e.conn} : std::nullopt;
  }
  std::optional<holder_ref> holder() const { return e.holder; }
};

/// A batch entry (its references valid in `texts`) read in place: no
/// scope_event is built, and a text is looked up only by a kind that reads it.
struct batch_scope_entry {
  const batch_event& e;
  const text_table& texts;
  std::string_view text(text_ref r) const {
    return r == no_text ? std::string_view{} : texts[r];
  }
  event_kind kind() const { return e.kind; }
  stream_id stream() const { return e.stream(); }
  std::string_view peer() const { return text(e.peer); }
  std::string_view name() const { return text(e.name()); }
  direction dir() const { return e.dir; }
  std::uint8_t priority() const { return e.priority; }
  std::uint64_t bytes() const { return e.bytes(); }
  std::optional<connection_id> conn() const {
    return e.has_conn() ? std::optional<connection_id>{e.stream_conn()} : std::nullopt;
  }
  std::optional<holder_ref> holder() const { return e.holder(); }
};

} // namespace

verdict gate_policy::refuse_bad_entry() {
  reported_.add(anomaly::bad_batch_entry);
  return verdict::fail("a batch event refers to texts the batch lacks");
}

verdict_list gate_policy::decide_batch(lifecycle_batch& batch, outcome_batch& out,
                                       time_ns now) {
  out.texts = std::move(batch.texts);
  out.lists = std::move(batch.lists);
  verdict_list verdicts;
  verdicts.reserve(batch.events.size());
  outcome_writer writer{out};
  for (auto& e : batch.events) {
    if (!refs_valid(out.texts, out.lists, e)) {
      verdicts.push_back(refuse_bad_entry());
      continue;
    }
    if (is_scope_event(e.kind)) {
      // An allow or an ok (every event of a busy batch, nearly) is its kind
      // alone.
      auto r = scope_decision_of(batch_scope_entry{e, out.texts}, now);
      if ((r.kind == verdict_kind::allow && !r.denial) || r.kind == verdict_kind::ok)
        verdicts.push_plain(r.kind);
      else
        verdicts.push_back(scope_verdict(std::move(r)));
      continue;
    }
    // Stream and memory events publish nothing: the outcomes' room is made
    // at the first connection event.
    if (out.order.capacity() == 0) {
      out.order.reserve(batch.events.size());
      out.admits.reserve(batch.events.size());
    }
    batch_sink sink{writer, e};
    // The addresses are read (into an IP) before any outcome is written.
    auto remote = view_of(out.texts, out.lists, e).remote;
    verdicts.push_back(decide(e.kind, e.conn(), sink, now, e.usefd(), remote));
  }
  return verdicts;
}

anomaly_counts gate_policy::anomalies() const {
  auto all = limits_.anomalies();
  all.add(reported_);
  if (scopes_)
    all.add(scopes_->anomalies());
  return all;
}

gate_stats gate_policy::stats(time_ns now) {
  gate_stats s;
  s.config = limits_.limits();
  s.bypass_peers = limits_.bypass_peers();
  s.counts = limits_.counts();
  s.denials = denials_.stats();
  s.would_deny = would_deny_.stats();
  s.blocked_peers = blocked_.size(now);
  s.memory = memory_.stats(now);
  s.anomalies = anomalies();
  return s;
}

nlohmann::json gate_policy::scopes_json(time_ns now, std::size_t list_cap) const {
  if (!scopes_)
    return nullptr;
  return to_json(scopes_->stats_at(now, list_cap));
}

// -- the per-IP part of a connection's admission ----------------------------------

std::optional<ip_address> gate_policy::ip_of(const text_list& addresses) {
  for (std::size_t i = 0; i < addresses.size(); ++i)
    if (auto ip = ip_of_address(addresses[i]))
      return ip;
  return std::nullopt;
}

std::optional<denial> gate_policy::ip_open(const admission& a, connection_id conn,
                                           const text_list& remote, time_ns now,
                                           bool& allowlisted,
                                           std::optional<denial>& would) {
  if (!a.result.allowed() || a.bypassed)
    return std::nullopt;
  if (!has_ip_limits_ && !has_attempt_rates_ && allowlist_.empty())
    return std::nullopt;
  auto ip = ip_of(remote);
  if (!ip)
    return std::nullopt; // no IP: nothing to count it against
  if (allowlist_.allows(*ip)) {
    allowlisted = true;
    return std::nullopt;
  }
  if (has_attempt_rates_) {
    bool dry_run = dry(rule_family::attempt_rates);
    if (auto r = attempts_.attempt(*ip, now, dry_run)) {
      auto d = attempt_rate_denial(to_string(*ip), std::move(r->prefix),
                                   r->retry_after_ms, conn);
      if (!dry_run) {
        limits_.leave_pending(conn);
        return d;
      }
      note(would, std::move(d));
    }
  }
  if (has_ip_limits_) {
    bool dry_run = dry(rule_family::ip_limits);
    if (auto r = ip_limits_.admit(conn, *ip, dry_run)) {
      auto d = ip_limit_denial(to_string(*ip), std::move(r->prefix), r->limit, r->current,
                               conn);
      if (!dry_run) {
        limits_.leave_pending(conn);
        return d;
      }
      note(would, std::move(d));
    }
  }
  return std::nullopt;
}

bool gate_policy::peer_allowlisted(std::string_view peer, const text_list& remote) const {
  auto ip = ip_of(remote);
  return ip && allowlist_.allows(*ip, peer);
}

nlohmann::json gate_policy::ip_limits_json(time_ns now, std::size_t list_cap) {
  if (!has_ip_limits_ && !has_attempt_rates_ && allowlist_.empty())
    return nullptr;
  using json = nlohmann::json;
  json part = json::object();
  std::size_t total = 0;
  auto top = ip_limits_.top_counts(list_cap, total);
  json counts = json::array();
  for (auto& x : top)
    counts.push_back(
        json{{"prefix", x.prefix},
             {"conns", x.conns},
             {"limit", x.limit == no_limit ? json("unlimited") : json(x.limit)}});
  json denials_ip = json::object();
  for (auto& [rule, n] : ip_limits_.denials_by_rule())
    denials_ip[rule] = n;
  json denials_rate = json::object();
  for (auto& [rule, n] : attempts_.denials_by_rule())
    denials_rate[rule] = n;
  attempts_.expire(now);
  part["connections"] = ip_limits_.connections();
  part["counts"] = std::move(counts);
  part["counts_total"] = total;
  part["truncated"] = total > top.size();
  part["denials"] = json{{"ip_limit", std::move(denials_ip)},
                         {"attempt_rate", std::move(denials_rate)}};
  part["rate_buckets"] = json{
      {"live", attempts_.live_buckets()},   {"max", attempts_.max_buckets()},
      {"evictions", attempts_.evictions()}, {"allowed", attempts_.allowed()},
      {"denied", attempts_.denied()},       {"would_deny", attempts_.would_denied()}};
  auto& entries = allowlist_.entries();
  auto shown = std::min(list_cap, entries.size());
  part["allowlist"] =
      json{{"entries",
            std::vector<std::string>(
                entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(shown))},
           {"size", entries.size()},
           {"truncated", shown < entries.size()}};
  return part;
}

// -- the scopes' part of a connection's admission -----------------------------------

std::optional<denial> gate_policy::scope_open(const admission& a, connection_id conn,
                                              direction dir, bool usefd, time_ns now,
                                              bool allowlisted,
                                              std::optional<denial>& would) {
  if (!a.result.allowed())
    return std::nullopt;
  auto r = scopes_->open_conn(conn, dir, usefd, now, allowlisted, a.bypassed);
  if (!r.denied()) {
    if (r.denial) // a dry run's
      note(would, to_denial(*r.denial));
    return std::nullopt;
  }
  limits_.leave_pending(conn);
  ip_limits_.remove(conn);
  return to_denial(*r.denial);
}

std::optional<denial> gate_policy::scope_establish(const admission& a, connection_id conn,
                                                   std::string_view peer, direction dir,
                                                   bool usefd, time_ns now,
                                                   bool peer_allowlisted,
                                                   std::optional<denial>& would) {
  if (a.result.denied()) {
    scope_close(conn); // the denial is the close
    return std::nullopt;
  }
  if (!a.result.allowed())
    return std::nullopt; // bad input: the limits report it
  auto r =
      scopes_->establish_conn(conn, peer, dir, usefd, now, peer_allowlisted, a.bypassed);
  if (!r.denied()) {
    if (r.denial) // a dry run's
      note(would, to_denial(*r.denial));
    return std::nullopt;
  }
  // The scopes released it; the limits release it too.
  limits_.on_closed(conn, peer);
  return to_denial(*r.denial);
}

void gate_policy::scope_release(const admission& a, connection_id conn) {
  if (a.changed)
    scope_close(conn);
}

void gate_policy::scope_close(connection_id conn) {
  // A connection admitted before the config had "scopes" is not in them.
  if (scopes_->holder(holder_ref{holder_ref::kind_t::conn, conn}))
    scopes_->close_conn(conn);
}

verdict gate_policy::scope_verdict(scope_result r) {
  switch (r.kind) {
  case verdict_kind::allow: {
    if (!r.denial)
      return verdict::allow();
    auto d = to_denial(*r.denial); // a dry run's
    would_deny_.count(d);
    return verdict::allow_but(std::move(d));
  }
  case verdict_kind::deny: {
    auto d = to_denial(*r.denial);
    denials_.count(d);
    return verdict::deny(std::move(d));
  }
  case verdict_kind::ok:
    return verdict::ok();
  case verdict_kind::error:
    break;
  }
  return verdict::fail(std::move(r.error));
}

verdict gate_policy::decide_scope(const scope_event& e, time_ns now) {
  return scope_verdict(scope_decision(e, now));
}

scope_result gate_policy::scope_decision(const scope_event& e, time_ns now) {
  return scope_decision_of(scope_event_entry{e}, now);
}

template <class Entry>
scope_result gate_policy::scope_decision_of(const Entry& e, time_ns now) {
  auto fail = [](std::string text) {
    return scope_result{verdict_kind::error, {}, std::move(text)};
  };
  auto kind = e.kind();
  std::optional<holder_ref> holder;
  if (kind == event_kind::reserve_memory || kind == event_kind::release_memory) {
    holder = e.holder();
    if (!holder)
      holder = parse_holder_name(e.name());
    if (!holder) {
      reported_.add(anomaly::bad_input);
      return fail("scope '" + std::string{e.name()} +
                  "' is not \"conn-<n>\" or \"stream-<n>\"");
    }
  }
  if (!is_scope_event(kind)) {
    reported_.add(anomaly::bad_batch_entry);
    return fail("unknown event kind in a batch");
  }
  if (!scopes_)
    return scope_result{}; // ok: no "scopes", nothing to decide
  auto& s = *scopes_;
  switch (kind) {
  case event_kind::stream_opened: {
    auto peer = e.peer();
    bool bypassed = !peer.empty() && limits_.is_bypassed(peer);
    return s.open_stream(e.stream(), peer, e.dir(), now, e.conn(), bypassed);
  }
  case event_kind::stream_protocol:
    return s.set_stream_protocol(e.stream(), e.name());
  case event_kind::stream_service:
    return s.set_stream_service(e.stream(), e.name());
  case event_kind::stream_closed:
    return s.close_stream(e.stream());
  case event_kind::reserve_memory:
    return s.reserve_memory(*holder, e.bytes(), e.priority());
  case event_kind::release_memory:
    return s.release_memory(*holder, e.bytes());
  default:
    break;
  }
  return scope_result{};
}

// -- scope events -------------------------------------------------------------------

scope_event scope_event_of(const stream_opened& m) {
  scope_event x;
  x.kind = event_kind::stream_opened;
  x.stream = m.stream;
  x.conn = m.conn;
  x.has_conn = m.has_conn;
  x.peer = m.peer;
  x.dir = m.dir;
  return x;
}

scope_event scope_event_of(const stream_protocol& m) {
  scope_event x;
  x.kind = event_kind::stream_protocol;
  x.stream = m.stream;
  x.name = m.protocol;
  return x;
}

scope_event scope_event_of(const stream_service& m) {
  scope_event x;
  x.kind = event_kind::stream_service;
  x.stream = m.stream;
  x.name = m.service;
  return x;
}

scope_event scope_event_of(const stream_closed& m) {
  scope_event x;
  x.kind = event_kind::stream_closed;
  x.stream = m.stream;
  return x;
}

scope_event scope_event_of(const reserve_memory& m) {
  scope_event x;
  x.kind = event_kind::reserve_memory;
  x.name = m.scope;
  x.bytes = m.bytes;
  x.priority = m.priority;
  return x;
}

scope_event scope_event_of(const release_memory& m) {
  scope_event x;
  x.kind = event_kind::release_memory;
  x.name = m.scope;
  x.bytes = m.bytes;
  return x;
}

std::optional<denial> gate_policy::memory_denial(connection_id conn, time_ns now) {
  if (limits_.contains(conn))
    return std::nullopt; // the limits report the duplicate
  return memory_.check(conn, now, dry(rule_family::memory));
}

std::optional<denial> gate_policy::block_denial(connection_id conn, std::string_view peer,
                                                bool opening, time_ns now) {
  if (peer.empty() || limits_.is_bypassed(peer) || !blocked_.blocked(peer, now))
    return std::nullopt;
  // The limits report the duplicate: any known id for an opening event, an
  // established one for an establishing event (a pending one is its own).
  if (limits_.contains(conn) && (opening || !limits_.is_pending(conn)))
    return std::nullopt;
  // The refused connection gives back its pending slot (in a dry run it
  // goes on as if allowed).
  if (!dry(rule_family::blocked))
    limits_.leave_pending(conn);
  denial d;
  d.code = denial_code::blocked;
  d.peer = peer_id{peer};
  d.conn = conn;
  return d;
}

} // namespace rcmgr
