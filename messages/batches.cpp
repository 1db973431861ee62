#include "messages/batches.hpp"

#include <functional>

namespace rcmgr {

namespace {

bool ref_ok(const std::vector<std::string>& texts, text_ref r) {
  return r == no_text || r < texts.size();
}

/// `[at, at + count)` lies inside `lists`, and each index there inside `texts`.
bool range_ok(const std::vector<std::string>& texts, const std::vector<text_ref>& lists,
              std::uint32_t at, std::uint32_t count) {
  if (at > lists.size() || count > lists.size() - at)
    return false;
  for (std::uint32_t i = at; i < at + count; ++i)
    if (!ref_ok(texts, lists[i]))
      return false;
  return true;
}

std::string_view text_at(const std::vector<std::string>& texts, text_ref r) {
  return r == no_text ? std::string_view{} : std::string_view{texts[r]};
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

bool refs_valid(const std::vector<std::string>& texts, const std::vector<text_ref>& lists,
                const batch_event& e) {
  return ref_ok(texts, e.peer) && ref_ok(texts, e.local) && ref_ok(texts, e.reason) &&
         range_ok(texts, lists, e.remote_at, e.remote_count);
}

batch_event_view view_of(const std::vector<std::string>& texts,
                         const std::vector<text_ref>& lists, const batch_event& e) {
  return batch_event_view{e.kind,
                          e.conn,
                          text_at(texts, e.peer),
                          text_at(texts, e.local),
                          text_at(texts, e.reason),
                          text_list{texts, lists.data() + e.remote_at, e.remote_count}};
}

lifecycle_event to_lifecycle_event(pending_inbound x) {
  return {event_kind::pending_inbound, x.conn, {}, std::move(x.local),
          {std::move(x.remote)},       {}};
}

lifecycle_event to_lifecycle_event(pending_outbound x) {
  return {event_kind::pending_outbound, x.conn, std::move(x.peer), {},
          std::move(x.addresses),       {}};
}

lifecycle_event to_lifecycle_event(established_inbound x) {
  return {event_kind::established_inbound, x.conn, std::move(x.peer), std::move(x.local),
          {std::move(x.remote)},           {}};
}

lifecycle_event to_lifecycle_event(established_outbound x) {
  return {event_kind::established_outbound, x.conn, std::move(x.peer), {},
          {std::move(x.address)},           {}};
}

lifecycle_event to_lifecycle_event(dial_failure x) {
  return {event_kind::dial_failure, x.conn, {}, {}, {}, {}};
}

lifecycle_event to_lifecycle_event(listen_failure x) {
  return {event_kind::listen_failure, x.conn, {}, {}, {}, {}};
}

lifecycle_event to_lifecycle_event(connection_closed x) {
  return {event_kind::connection_closed,
          x.conn,
          std::move(x.peer),
          {},
          {},
          std::move(x.reason)};
}

text_ref batch_writer::text(std::string_view text) {
  if (text.empty())
    return no_text;
  auto& texts = out_->texts;
  auto h = std::hash<std::string_view>{}(text);
  if (auto i = seen_.find(h); i != seen_.end() && texts[i->second] == text)
    return i->second;
  auto r = static_cast<text_ref>(texts.size());
  texts.emplace_back(text);
  seen_.emplace(h, r); // keeps the first text on a collision
  return r;
}

void batch_writer::add(event_kind kind, connection_id conn, std::string_view peer,
                       std::string_view local, const text_list& remote,
                       std::string_view reason) {
  batch_event e;
  e.kind = kind;
  e.conn = conn;
  e.peer = text(peer);
  e.local = text(local);
  e.reason = text(reason);
  e.remote_at = static_cast<std::uint32_t>(out_->lists.size());
  e.remote_count = static_cast<std::uint32_t>(remote.size());
  for (std::size_t i = 0; i < remote.size(); ++i) {
    auto r = text(remote[i]);
    out_->lists.push_back(r);
  }
  out_->events.push_back(e);
}

void batch_writer::add(const lifecycle_event& e) {
  add(e.kind, e.conn, e.peer, e.local, text_list{e.remote}, e.reason);
}

// -- outcome_batch ----------------------------------------------------------------

admitted admitted_view::owned() const {
  admitted x;
  x.conn = conn;
  x.state = state;
  x.dir = dir;
  x.peer = std::string{peer};
  x.local = std::string{local};
  x.remote = remote.owned();
  x.bypassed = bypassed;
  x.at = at;
  return x;
}

released released_view::owned() const {
  return released{conn, cause, std::string{peer}, std::string{reason}, at};
}

admitted_view view_of(const admitted& x) {
  return admitted_view{x.conn,     x.state, x.dir, x.peer, x.local, text_list{x.remote},
                       x.bypassed, x.at};
}

released_view view_of(const released& x) {
  return released_view{x.conn, x.cause, x.peer, x.reason, x.at};
}

bool well_formed(const outcome_batch& b) {
  std::size_t n[3] = {0, 0, 0};
  for (auto k : b.order) {
    if (k > 2)
      return false;
    ++n[k];
  }
  if (n[0] != b.admits.size() || n[1] != b.denials.size() || n[2] != b.releases.size())
    return false;
  for (auto& x : b.admits)
    if (!ref_ok(b.texts, x.peer) || !ref_ok(b.texts, x.local) ||
        !range_ok(b.texts, b.lists, x.remote_at, x.remote_count))
      return false;
  for (auto& x : b.releases)
    if (!ref_ok(b.texts, x.peer) || !ref_ok(b.texts, x.reason))
      return false;
  return true;
}

} // namespace rcmgr
