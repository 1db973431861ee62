#include "messages/batches.hpp"

#include <algorithm>
#include <cstring>

namespace rcmgr {

namespace {

/// No text, or a text of the table that lies inside its characters.
bool ref_ok(const text_table& texts, text_ref r) {
  return r == no_text || texts.has(r);
}

/// `[at, at + count)` lies inside `lists`, and each index there inside `texts`.
bool range_ok(const text_table& texts, const std::vector<text_ref>& lists,
              std::uint32_t at, std::uint32_t count) {
  if (at > lists.size() || count > lists.size() - at)
    return false;
  for (std::uint32_t i = at; i < at + count; ++i)
    if (!ref_ok(texts, lists[i]))
      return false;
  return true;
}

std::string_view text_at(const text_table& texts, text_ref r) {
  return r == no_text ? std::string_view{} : texts[r];
}

/// The writer's hash of a text, eight bytes a step (a text of 8 bytes or
/// more ends with its last eight, overlapping the step before). It only
/// picks a slot in one batch's table, where a collision costs a compare.
std::uint64_t text_hash(std::string_view text) {
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ull;
  auto mix = [](std::uint64_t h, std::uint64_t w) {
    h = (h ^ w) * k;
    return h ^ (h >> 32);
  };
  std::uint64_t h = (text.size() + 1) * k;
  const char* p = text.data();
  auto n = text.size();
  if (n < 8) {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i)
      w = (w << 8) | static_cast<unsigned char>(p[i]);
    return mix(h, w);
  }
  std::uint64_t w;
  for (; n > 8; p += 8, n -= 8) {
    std::memcpy(&w, p, 8);
    h = mix(h, w);
  }
  std::memcpy(&w, text.data() + text.size() - 8, 8);
  return mix(h, w);
}

} // namespace

std::vector<std::string> text_list::owned() const {
  std::vector<std::string> out;
  out.reserve(size_);
  for (std::size_t i = 0; i < size_; ++i)
    out.emplace_back((*this)[i]);
  return out;
}

// -- lifecycle_batch --------------------------------------------------------------

bool refs_valid(const text_table& texts, const std::vector<text_ref>& lists,
                const batch_event& e) {
  if (!ref_ok(texts, e.peer) || !ref_ok(texts, e.text) || !ref_ok(texts, e.reason))
    return false;
  // A stream or memory event's `value` is no range into the lists.
  return is_scope_event(e.kind) ||
         range_ok(texts, lists, e.remote_at(), e.remote_count());
}

batch_event_view view_of(const text_table& texts, const std::vector<text_ref>& lists,
                         const batch_event& e) {
  if (is_scope_event(e.kind))
    return batch_event_view{e.kind,
                            e.id,
                            text_at(texts, e.peer),
                            {},
                            text_at(texts, e.reason),
                            text_list{},
                            text_at(texts, e.name())};
  return batch_event_view{
      e.kind,
      e.conn(),
      text_at(texts, e.peer),
      text_at(texts, e.local()),
      text_at(texts, e.reason),
      text_list{texts, lists.data() + e.remote_at(), e.remote_count()},
      {}};
}

namespace {

lifecycle_event event_of(event_kind kind, connection_id conn) {
  lifecycle_event e;
  e.kind = kind;
  e.conn = conn;
  return e;
}

} // namespace

// -- event_view -------------------------------------------------------------------

event_view::event_view(const pending_inbound& x)
    : event_view(event_kind::pending_inbound, x.conn) {
  local = x.local;
  address_ = x.remote;
  remote = text_list{&address_, 1};
  usefd = x.usefd;
}

event_view::event_view(const pending_outbound& x)
    : event_view(event_kind::pending_outbound, x.conn) {
  peer = x.peer;
  remote = text_list{x.addresses};
  usefd = x.usefd;
}

event_view::event_view(const established_inbound& x)
    : event_view(event_kind::established_inbound, x.conn) {
  peer = x.peer;
  local = x.local;
  address_ = x.remote;
  remote = text_list{&address_, 1};
  usefd = x.usefd;
}

event_view::event_view(const established_outbound& x)
    : event_view(event_kind::established_outbound, x.conn) {
  peer = x.peer;
  address_ = x.address;
  remote = text_list{&address_, 1};
  usefd = x.usefd;
}

event_view::event_view(const dial_failure& x)
    : event_view(event_kind::dial_failure, x.conn) {}

event_view::event_view(const listen_failure& x)
    : event_view(event_kind::listen_failure, x.conn) {}

event_view::event_view(const connection_closed& x)
    : event_view(event_kind::connection_closed, x.conn) {
  peer = x.peer;
  reason = x.reason;
}

event_view::event_view(const lifecycle_event& x) : event_view(x.kind, x.conn) {
  peer = x.peer;
  local = x.local;
  reason = x.reason;
  remote = text_list{x.remote};
  usefd = x.usefd;
}

// -- lifecycle_event ----------------------------------------------------------------

lifecycle_event to_lifecycle_event(pending_inbound x) {
  auto e = event_of(event_kind::pending_inbound, x.conn);
  e.local = std::move(x.local);
  e.remote.emplace_back(x.remote.view());
  e.usefd = x.usefd;
  return e;
}

lifecycle_event to_lifecycle_event(pending_outbound x) {
  auto e = event_of(event_kind::pending_outbound, x.conn);
  e.peer = std::move(x.peer);
  e.remote.reserve(x.addresses.size());
  for (auto& a : x.addresses)
    e.remote.emplace_back(a.view());
  e.usefd = x.usefd;
  return e;
}

lifecycle_event to_lifecycle_event(established_inbound x) {
  auto e = event_of(event_kind::established_inbound, x.conn);
  e.peer = std::move(x.peer);
  e.local = std::move(x.local);
  e.remote.emplace_back(x.remote.view());
  e.usefd = x.usefd;
  return e;
}

lifecycle_event to_lifecycle_event(established_outbound x) {
  auto e = event_of(event_kind::established_outbound, x.conn);
  e.peer = std::move(x.peer);
  e.remote.emplace_back(x.address.view());
  e.usefd = x.usefd;
  return e;
}

lifecycle_event to_lifecycle_event(dial_failure x) {
  return event_of(event_kind::dial_failure, x.conn);
}

lifecycle_event to_lifecycle_event(listen_failure x) {
  return event_of(event_kind::listen_failure, x.conn);
}

lifecycle_event to_lifecycle_event(connection_closed x) {
  auto e = event_of(event_kind::connection_closed, x.conn);
  e.peer = std::move(x.peer);
  e.reason = std::move(x.reason);
  return e;
}

lifecycle_event to_lifecycle_event(stream_opened x) {
  auto e = event_of(event_kind::stream_opened, x.conn);
  e.stream = x.stream;
  e.peer = std::move(x.peer);
  e.dir = x.dir;
  e.has_conn = x.has_conn;
  return e;
}

lifecycle_event to_lifecycle_event(stream_protocol x) {
  auto e = event_of(event_kind::stream_protocol, 0);
  e.stream = x.stream;
  e.name = std::move(x.protocol);
  return e;
}

lifecycle_event to_lifecycle_event(stream_service x) {
  auto e = event_of(event_kind::stream_service, 0);
  e.stream = x.stream;
  e.name = std::move(x.service);
  return e;
}

lifecycle_event to_lifecycle_event(stream_closed x) {
  auto e = event_of(event_kind::stream_closed, 0);
  e.stream = x.stream;
  return e;
}

lifecycle_event to_lifecycle_event(reserve_memory x) {
  auto e = event_of(event_kind::reserve_memory, 0);
  e.name = std::move(x.scope);
  e.bytes = x.bytes;
  e.priority = x.priority;
  return e;
}

lifecycle_event to_lifecycle_event(release_memory x) {
  auto e = event_of(event_kind::release_memory, 0);
  e.name = std::move(x.scope);
  e.bytes = x.bytes;
  return e;
}

text_ref batch_writer::text(std::string_view text) {
  if (text.empty())
    return no_text;
  auto& texts = out_->texts;
  for (auto& r : recent_)
    if (r.data == text.data() && r.size == text.size() && texts[r.ref] == text)
      return r.ref;
  auto hash = text_hash(text);
  auto r = lookup(text, hash);
  if (r == no_text) {
    r = texts.push(text);
    index(hash, r);
  }
  // Only texts found by hash enter the recent list: one found there already
  // would only push the others out.
  recent_[recent_next_] = recent_text{text.data(), text.size(), r};
  recent_next_ = (recent_next_ + 1) % recent_size;
  return r;
}

text_ref batch_writer::lookup(std::string_view text, std::size_t hash) const {
  if (slots_ == 0)
    return no_text;
  auto* t = table();
  auto mask = slots_ - 1;
  for (auto i = hash & mask;; i = (i + 1) & mask) {
    auto& s = t[i];
    if (s.ref == no_text)
      return no_text;
    if (s.hash == hash && out_->texts[s.ref] == text)
      return s.ref;
  }
}

namespace {

template <class Slot>
void place(Slot* table, std::size_t size, std::size_t hash, text_ref r) {
  auto mask = size - 1;
  auto i = hash & mask;
  while (table[i].ref != no_text)
    i = (i + 1) & mask;
  table[i] = Slot{hash, r};
}

} // namespace

void batch_writer::index(std::size_t hash, text_ref r) {
  // At most half full: a probe ends at an empty slot soon.
  if (2 * out_->texts.size() > slots_) {
    std::size_t n = inline_slots; // a power of two, for the mask
    while (n < 4 * out_->texts.size())
      n *= 2;
    // The inline table is only ever the first one, and starts empty.
    if (n > inline_slots) {
      std::vector<slot> bigger(n);
      const slot* old = table();
      for (std::size_t i = 0; i < slots_; ++i)
        if (old[i].ref != no_text)
          place(bigger.data(), n, old[i].hash, old[i].ref);
      spill_.swap(bigger);
    }
    slots_ = n;
  }
  place(table(), slots_, hash, r);
}

namespace {

/// A stream or memory event as a batch entry, its texts given.
batch_event scope_entry(const lifecycle_event& e, text_ref peer, text_ref name) {
  batch_event be;
  be.kind = e.kind;
  be.dir = e.dir;
  be.priority = e.priority;
  be.peer = peer;
  be.text = name;
  be.id = e.stream;
  if (e.kind == event_kind::stream_opened) {
    be.set_flag(batch_event::has_conn_flag, e.has_conn);
    be.value = e.has_conn ? e.conn : 0;
  } else {
    be.value = e.bytes;
  }
  return be;
}

} // namespace

void batch_writer::add(event_kind kind, connection_id conn, std::string_view peer,
                       std::string_view local, const text_list& remote,
                       std::string_view reason, bool usefd) {
  batch_event e;
  e.kind = kind;
  e.id = conn;
  e.peer = text(peer);
  e.text = text(local);
  e.reason = text(reason);
  e.set_flag(batch_event::usefd_flag, usefd);
  e.set_remote(static_cast<std::uint32_t>(out_->lists.size()),
               static_cast<std::uint32_t>(remote.size()));
  for (std::size_t i = 0; i < remote.size(); ++i) {
    auto r = text(remote[i]);
    out_->lists.push_back(r);
  }
  out_->events.push_back(e);
}

void batch_writer::add(const lifecycle_event& e) {
  if (is_scope_event(e.kind)) {
    out_->events.push_back(scope_entry(e, text(e.peer), text(e.name)));
    return;
  }
  add(e.kind, e.conn, e.peer, e.local, text_list{e.remote}, e.reason, e.usefd);
}

namespace {

batch_event scope_event(event_kind kind, stream_id stream) {
  batch_event e;
  e.kind = kind;
  e.id = stream;
  return e;
}

} // namespace

void batch_writer::add_stream_opened(stream_id stream, std::string_view peer,
                                     direction dir, std::optional<connection_id> conn) {
  auto e = scope_event(event_kind::stream_opened, stream);
  e.peer = text(peer);
  e.dir = dir;
  e.set_flag(batch_event::has_conn_flag, conn.has_value());
  e.value = conn.value_or(0);
  out_->events.push_back(e);
}

void batch_writer::add_stream_protocol(stream_id stream, std::string_view protocol) {
  auto e = scope_event(event_kind::stream_protocol, stream);
  e.text = text(protocol);
  out_->events.push_back(e);
}

void batch_writer::add_stream_service(stream_id stream, std::string_view service) {
  auto e = scope_event(event_kind::stream_service, stream);
  e.text = text(service);
  out_->events.push_back(e);
}

void batch_writer::add_stream_closed(stream_id stream) {
  out_->events.push_back(scope_event(event_kind::stream_closed, stream));
}

void batch_writer::add_reserve_memory(std::string_view scope, std::uint64_t bytes,
                                      std::uint8_t priority) {
  auto e = scope_event(event_kind::reserve_memory, 0);
  e.text = text(scope);
  e.value = bytes;
  e.priority = priority;
  out_->events.push_back(e);
}

void batch_writer::add_release_memory(std::string_view scope, std::uint64_t bytes) {
  auto e = scope_event(event_kind::release_memory, 0);
  e.text = text(scope);
  e.value = bytes;
  out_->events.push_back(e);
}

namespace {

batch_event holder_event(event_kind kind, holder_ref holder, std::uint64_t bytes) {
  auto e = scope_event(kind, holder.id);
  e.set_flag(batch_event::holder_flag, true);
  e.set_flag(batch_event::stream_holder_flag, holder.kind == holder_ref::kind_t::stream);
  e.value = bytes;
  return e;
}

} // namespace

void batch_writer::add_reserve_memory(holder_ref holder, std::uint64_t bytes,
                                      std::uint8_t priority) {
  auto e = holder_event(event_kind::reserve_memory, holder, bytes);
  e.priority = priority;
  out_->events.push_back(e);
}

void batch_writer::add_release_memory(holder_ref holder, std::uint64_t bytes) {
  out_->events.push_back(holder_event(event_kind::release_memory, holder, bytes));
}

// -- outcome_batch ----------------------------------------------------------------

std::string to_string(outcome_kind x) {
  switch (x) {
  case outcome_kind::admitted:
    return "admitted";
  case outcome_kind::denied:
    return "denied";
  case outcome_kind::released:
    return "released";
  }
  return "unknown";
}

admitted admitted_view::owned() const {
  admitted x;
  x.conn = conn;
  x.state = state;
  x.dir = dir;
  x.peer = std::string{peer};
  x.local = std::string{local};
  x.remote = remote.owned();
  if (would_deny)
    x.would_deny.push_back(*would_deny);
  x.bypassed = bypassed;
  x.at = at;
  return x;
}

released released_view::owned() const {
  return released{conn, cause, std::string{peer}, std::string{reason}, at};
}

admitted_view view_of(const admitted& x) {
  return admitted_view{
      x.conn,     x.state, x.dir,
      x.peer,     x.local, text_list{x.remote},
      x.bypassed, x.at,    x.would_deny.empty() ? nullptr : &x.would_deny[0]};
}

released_view view_of(const released& x) {
  return released_view{x.conn, x.cause, x.peer, x.reason, x.at};
}

bool well_formed(const outcome_batch& b) {
  // `order` may hold any byte when the batch came from a remote sender.
  std::size_t n[3] = {0, 0, 0};
  for (auto k : b.order) {
    auto i = static_cast<std::size_t>(k);
    if (i > 2)
      return false;
    ++n[i];
  }
  if (n[0] != b.admits.size() || n[1] != b.denials.size() || n[2] != b.releases.size())
    return false;
  for (auto& x : b.admits)
    if (!ref_ok(b.texts, x.peer) || !ref_ok(b.texts, x.local) ||
        !range_ok(b.texts, b.lists, x.remote_at, x.remote_count) ||
        (x.would_deny != admitted_entry::no_would_deny &&
         x.would_deny >= b.would_denials.size()))
      return false;
  for (auto& x : b.releases)
    if (!ref_ok(b.texts, x.peer) || !ref_ok(b.texts, x.reason))
      return false;
  return true;
}

// -- outcome_writer ---------------------------------------------------------------

namespace {

bool has_local(event_kind k) {
  return k == event_kind::pending_inbound || k == event_kind::established_inbound;
}

/// How many of an event's remote texts its outcome keeps: every dial
/// address, else the one remote (or established) address.
std::uint32_t remote_kept(event_kind k, std::uint32_t n) {
  return k == event_kind::pending_outbound ? n : std::min<std::uint32_t>(n, 1);
}

} // namespace

batch_event outcome_writer::add_texts(const lifecycle_event& e) {
  if (is_scope_event(e.kind))
    return scope_entry(e, text(e.peer), text(e.name));
  return add_texts(event_view{e});
}

batch_event outcome_writer::add_texts(const event_view& e) {
  batch_event be;
  be.kind = e.kind;
  be.id = e.conn;
  be.peer = text(e.peer);
  be.text = text(e.local);
  be.reason = text(e.reason);
  be.set_remote(static_cast<std::uint32_t>(out_->lists.size()),
                static_cast<std::uint32_t>(e.remote.size()));
  for (std::size_t i = 0; i < e.remote.size(); ++i)
    out_->lists.push_back(text(e.remote[i]));
  be.set_flag(batch_event::usefd_flag, e.usefd);
  return be;
}

void outcome_writer::admitted(const batch_event& e, conn_state state, direction dir,
                              const std::optional<peer_id>& known, bool bypassed,
                              time_ns at) {
  admitted_entry x;
  x.conn = e.conn();
  x.state = state;
  x.dir = dir;
  x.peer = known ? text(*known) : e.peer;
  x.local = has_local(e.kind) ? e.local() : no_text;
  x.remote_at = e.remote_at();
  x.remote_count = remote_kept(e.kind, e.remote_count());
  x.bypassed = bypassed;
  x.at = at;
  out_->order.push_back(outcome_kind::admitted);
  out_->admits.push_back(x);
}

void outcome_writer::would_deny(const denial& why) {
  if (out_->admits.empty())
    return;
  out_->admits.back().would_deny = static_cast<std::uint32_t>(out_->would_denials.size());
  out_->would_denials.push_back(why);
}

void outcome_writer::denied(const batch_event& e, denial why, time_ns at) {
  out_->order.push_back(outcome_kind::denied);
  out_->denials.push_back(rcmgr::denied{e.conn(), e.kind, std::move(why), at});
}

namespace {

constexpr std::size_t max_reserved_releases = 32;

} // namespace

void outcome_writer::released(const batch_event& e, const std::optional<peer_id>& known,
                              std::string_view fixed_reason, time_ns at) {
  released_entry x;
  x.conn = e.conn();
  x.cause = e.kind;
  x.peer = known ? text(*known) : e.peer;
  x.reason = fixed_reason.empty() ? e.reason : text(fixed_reason);
  x.at = at;
  // Room for the rest at once: an event has at most one outcome, and what
  // `order` has room for is what the writer's caller expects (a batch's
  // events). Grown one by one, a batch's releases took six blocks. At most
  // 32 (1 KiB): a block malloc's per-thread cache still takes, freed by a
  // subscriber on another thread.
  if (out_->releases.capacity() == 0)
    out_->releases.reserve(std::clamp<std::size_t>(
        out_->order.capacity() - out_->order.size(), 1, max_reserved_releases));
  out_->order.push_back(outcome_kind::released);
  out_->releases.push_back(x);
}

} // namespace rcmgr
