#include "actors/tracker/connection_registry.hpp"

#include <algorithm>
#include <map>

namespace rcmgr {

namespace {

/// The count a record adds to: bypassed, or by state and direction.
template <class Record> std::uint64_t& count_of(admission_counts& c, const Record& r) {
  if (r.bypassed)
    return c.bypassed;
  bool in = r.dir == direction::inbound;
  if (r.state == conn_state::pending)
    return in ? c.pending_inbound : c.pending_outbound;
  return in ? c.established_inbound : c.established_outbound;
}

/// Points `h` at `text` in `pool` (a no-op for empty text: what is known
/// stays known; and for the text `h` already names).
template <class Pool>
void learn(Pool& pool, string_pool::handle& h, std::string_view text) {
  if (text.empty() || pool.text(h) == text)
    return; // nothing new: no lookup
  auto fresh = pool.acquire(text);
  pool.release(h);
  h = fresh;
}

void sort_by_id(std::vector<connection_record>& xs) {
  std::sort(xs.begin(), xs.end(),
            [](const connection_record& a, const connection_record& b) {
              return a.conn < b.conn;
            });
}

} // namespace

void connection_registry::remember(const stored& r) {
  ++count_of(counts_, r);
  if (r.peer != string_pool::empty) {
    auto& pc = peers_.value(r.peer);
    ++(r.state == conn_state::pending ? pc.pending : pc.established);
  }
}

void connection_registry::forget(const stored& r) {
  --count_of(counts_, r);
  if (r.peer != string_pool::empty) {
    auto& pc = peers_.value(r.peer);
    --(r.state == conn_state::pending ? pc.pending : pc.established);
  }
}

void connection_registry::erase(record_map::iterator i) {
  forget(i->second);
  peers_.release(i->second.peer);
  locals_.release(i->second.local);
  nodes_.erase(records_, i);
}

void connection_registry::on_admitted(const admitted& x) {
  on_admitted(view_of(x));
}

void connection_registry::on_released(const released& x) {
  on_released(view_of(x));
}

void connection_registry::on_admitted(const admitted_view& x) {
  auto it = records_.find(x.conn);
  bool fresh = it == records_.end();
  if (fresh)
    it = nodes_.insert_reusing(records_, x.conn, [](stored& old) {
      // A closed connection's block of addresses serves the new one's.
      auto remote = std::move(old.remote);
      old = stored{};
      remote.clear();
      old.remote = std::move(remote);
    });
  auto& r = it->second;
  if (!fresh) {
    forget(r); // counted again below, as it is now
    if (x.state == conn_state::pending) {
      // Pending again: a new connection under a reused id, a new record.
      peers_.release(r.peer);
      locals_.release(r.local);
      r = stored{};
    }
  }
  // A connection may be reported established without ever being pending:
  // then its record starts here.
  r.state = x.state;
  r.dir = x.dir;
  learn(peers_, r.peer, x.peer);
  learn(locals_, r.local, x.local);
  // (An established connection usually names the address it had while
  // pending: then the packed block is kept, not made again.)
  bool has_remote = !x.remote.empty() && !(x.remote.size() == 1 && x.remote[0].empty());
  if (has_remote && !r.remote.holds(x.remote))
    r.remote.assign_list(x.remote);
  else if (!has_remote && r.remote.empty())
    r.remote = packed_strings{}; // a reused block left with nothing goes
  r.bypassed = x.bypassed;
  if (x.state == conn_state::pending)
    r.pending_at = x.at;
  else
    r.established_at = x.at;
  remember(r);
}

void connection_registry::on_denied(const denied& x) {
  // A denied established event takes the connection out of pending too.
  if (x.event != event_kind::established_inbound &&
      x.event != event_kind::established_outbound)
    return;
  if (auto i = records_.find(x.conn); i != records_.end())
    erase(i);
}

void connection_registry::on_released(const released_view& x) {
  auto i = records_.find(x.conn);
  if (i == records_.end()) {
    ++inconsistencies_;
    return;
  }
  erase(i);
}

connection_record connection_registry::expand(const record_map::value_type& entry) const {
  auto& [conn, r] = entry;
  connection_record out;
  out.conn = conn;
  out.state = r.state;
  out.dir = r.dir;
  out.peer = peers_.text(r.peer);
  out.local = locals_.text(r.local);
  out.remote = r.remote.unpack();
  out.bypassed = r.bypassed;
  out.pending_at = r.pending_at;
  out.established_at = r.established_at;
  return out;
}

template <class Pred>
std::vector<connection_record> connection_registry::select(Pred keep) const {
  std::vector<connection_record> out;
  for (auto& entry : records_)
    if (keep(entry.second))
      out.push_back(expand(entry));
  sort_by_id(out);
  return out;
}

std::vector<connection_record> connection_registry::of_peer(const peer_id& peer) const {
  string_pool::handle h;
  if (!peers_.find(peer, h))
    return {};
  return select([h](const stored& r) { return r.peer == h; });
}

std::vector<connection_record> connection_registry::in_state(conn_state state) const {
  return select([state](const stored& r) { return r.state == state; });
}

std::optional<connection_record> connection_registry::find(connection_id conn) const {
  auto i = records_.find(conn);
  if (i == records_.end())
    return std::nullopt;
  return expand(*i);
}

std::vector<const connection_registry::record_map::value_type*>
connection_registry::listed(std::size_t list_cap) const {
  std::vector<const record_map::value_type*> all;
  all.reserve(records_.size());
  for (auto& entry : records_)
    all.push_back(&entry);
  // Lowest ids first: a stable listing, whatever the hash order.
  auto cut = std::min(list_cap, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(cut),
                    all.end(), [](auto* a, auto* b) { return a->first < b->first; });
  all.resize(cut);
  return all;
}

registry_stats connection_registry::stats(std::size_t list_cap) const {
  registry_stats s;
  s.counts = counts_;
  s.total = records_.size();
  s.per_peer.reserve(peers_.size());
  peers_.for_each([&](string_pool::handle h) {
    auto& pc = peers_.value(h);
    s.per_peer.push_back(
        peer_connection_counts{peers_.text(h), pc.pending, pc.established});
  });
  std::sort(s.per_peer.begin(), s.per_peer.end(),
            [](const auto& a, const auto& b) { return a.peer < b.peer; });
  auto shown = listed(list_cap);
  s.list.reserve(shown.size());
  for (auto* entry : shown) {
    auto& [conn, r] = *entry;
    s.list.push_back(connection_view{conn, r.state, r.dir, peers_.text(r.peer),
                                     locals_.text(r.local), &r.remote, r.bypassed,
                                     r.pending_at, r.established_at});
  }
  s.truncated = records_.size() > list_cap;
  s.inconsistencies = inconsistencies_;
  return s;
}

} // namespace rcmgr
