// Batch messages: many lifecycle events in one message to the gate, and their
// outcomes in one message to each subscriber.
//
// A batch names each distinct text (peer id, address, reason) once, in
// `texts`, and its events refer to them by index. At high rates most of a
// batch's cost was its strings: a 52-character peer id or a multiaddr is a
// heap block per copy, allocated by the sender and freed by whichever thread
// drops the message last. With a text table, the 21 connections of a 63-event
// batch carry 44 texts instead of about 190 strings, all in one block of
// characters (`text_table`), and the gate hands the same table on to its
// subscribers without copying a byte: the outcomes refer to the texts by the
// same indexes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "messages/outcomes.hpp"
#include "messages/text_table.hpp"

namespace rcmgr {

/// An index into a batch's `texts`; `no_text` for a text the event does not
/// have (read as "").
using text_ref = std::uint32_t;
constexpr text_ref no_text = 0xFFFFFFFFu;

/// A list of texts (an event's remote or dial addresses) without copies:
/// either a vector of strings itself, or indexes into a batch's texts.
class text_list {
public:
  text_list() = default;
  explicit text_list(const std::vector<std::string>& xs)
      : direct_(xs.data()), size_(xs.size()) {}
  /// `n` strings from `xs` on (one string: `text_list{&s, 1}`).
  text_list(const std::string* xs, std::size_t n) : direct_(xs), size_(n) {}
  text_list(const text_table& table, const text_ref* refs, std::size_t n)
      : table_(&table), refs_(refs), size_(n) {}
  /// `n` views from `xs` on (a single event's one address).
  text_list(const std::string_view* xs, std::size_t n) : views_(xs), size_(n) {}
  /// A single event's texts (a dial's addresses).
  explicit text_list(const std::vector<inline_text>& xs)
      : inline_(xs.data()), size_(xs.size()) {}

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](std::size_t i) const {
    if (views_ != nullptr)
      return views_[i];
    if (inline_ != nullptr)
      return inline_[i].view();
    if (refs_ == nullptr)
      return direct_[i];
    return refs_[i] == no_text ? std::string_view{} : (*table_)[refs_[i]];
  }
  std::vector<std::string> owned() const;

private:
  const std::string_view* views_ = nullptr;
  const inline_text* inline_ = nullptr;
  const std::string* direct_ = nullptr;
  const text_table* table_ = nullptr;
  const text_ref* refs_ = nullptr;
  std::size_t size_ = 0;
};

// -- lifecycle_batch --------------------------------------------------------------

/// One event of a batch in 32 bytes: the fields of the event struct of the
/// same kind, texts by reference. Fields no kind uses together share a slot
/// (the batched lifecycle is bound by how many bytes its events move):
/// - `id`: the connection (connection events), the stream (stream events),
///   or a memory event's holder when the entry gives it as one (`holder()`);
/// - `value`: a connection event's `remote` (the remote address, the dial
///   addresses or the established address) as `lists[remote_at,
///   remote_at + remote_count)`; a memory event's `bytes`; the connection of
///   a `stream_opened` that names one;
/// - `text`: a connection event's `local`; a stream or memory event's `name`
///   (the protocol, the service, or the scope "conn-<n>" / "stream-<n>" of a
///   memory event that gives its scope as text).
/// Read and write them through the accessors, which say which is meant.
struct batch_event {
  static constexpr std::uint8_t usefd_flag = 1;
  static constexpr std::uint8_t has_conn_flag = 2;
  /// A memory event whose scope is the holder `id` (a stream with
  /// `stream_holder_flag`, else a connection); its text is not read.
  static constexpr std::uint8_t holder_flag = 4;
  static constexpr std::uint8_t stream_holder_flag = 8;

  event_kind kind = event_kind::pending_inbound;
  direction dir = direction::inbound;
  std::uint8_t priority = 255;
  std::uint8_t flags = usefd_flag;
  text_ref peer = no_text;
  std::uint64_t id = 0;
  std::uint64_t value = 0;
  text_ref text = no_text;
  text_ref reason = no_text;

  connection_id conn() const { return id; }
  stream_id stream() const { return id; }
  text_ref local() const { return text; }
  text_ref name() const { return text; }
  std::uint32_t remote_at() const { return static_cast<std::uint32_t>(value); }
  std::uint32_t remote_count() const { return static_cast<std::uint32_t>(value >> 32); }
  std::uint64_t bytes() const { return value; }
  /// The connection a `stream_opened` names, if `has_conn()`.
  connection_id stream_conn() const { return value; }
  bool usefd() const { return (flags & usefd_flag) != 0; }
  bool has_conn() const { return (flags & has_conn_flag) != 0; }
  /// A memory event's scope given as a holder rather than as text (nothing
  /// for one that names it as text; meaningless for other kinds).
  std::optional<holder_ref> holder() const {
    if ((flags & holder_flag) == 0)
      return std::nullopt;
    return holder_ref{(flags & stream_holder_flag) != 0 ? holder_ref::kind_t::stream
                                                        : holder_ref::kind_t::conn,
                      id};
  }

  void set_remote(std::uint32_t at, std::uint32_t count) {
    value = static_cast<std::uint64_t>(count) << 32 | at;
  }
  void set_flag(std::uint8_t flag, bool on) {
    flags = static_cast<std::uint8_t>(on ? flags | flag : flags & ~flag);
  }
};

static_assert(sizeof(batch_event) == 32, "a batch event is 32 bytes");

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_event& x) {
  return f(caf::meta::type_name("batch_event"), x.kind, x.dir, x.priority, x.flags,
           x.peer, x.id, x.value, x.text, x.reason);
}

/// Many lifecycle events in one message, for high-rate callers; the gate
/// answers with one verdict per event, in the same order. Build one with a
/// `batch_writer`. An event whose references fall outside the batch is bad
/// input: its verdict is an error, and the others are decided as usual.
struct lifecycle_batch {
  text_table texts;
  std::vector<text_ref> lists;
  std::vector<batch_event> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lifecycle_batch& x) {
  return f(caf::meta::type_name("lifecycle_batch"), x.texts, x.lists, x.events);
}

/// Whether every reference of `e` lies inside the batch's tables.
bool refs_valid(const text_table& texts, const std::vector<text_ref>& lists,
                const batch_event& e);

/// A batch event read back with its texts (views into the batch).
struct batch_event_view {
  event_kind kind;
  connection_id conn;
  std::string_view peer;
  std::string_view local;
  std::string_view reason;
  text_list remote;
  std::string_view name;
};

/// Reads event `e` of a batch whose tables are `texts` and `lists`; the
/// references must be valid (`refs_valid`).
batch_event_view view_of(const text_table& texts, const std::vector<text_ref>& lists,
                         const batch_event& e);

/// A single connection event read in place: views into the event's own texts,
/// valid while the event lives; `remote` as in `lifecycle_event`. The gate
/// decides a single event from this, so that no text is copied out of the
/// message. Neither copied nor moved: `remote` may point at `address_`.
class event_view {
public:
  explicit event_view(const pending_inbound& x);
  explicit event_view(const pending_outbound& x);
  explicit event_view(const established_inbound& x);
  explicit event_view(const established_outbound& x);
  explicit event_view(const dial_failure& x);
  explicit event_view(const listen_failure& x);
  explicit event_view(const connection_closed& x);
  /// A connection event of the flat form (not a stream or memory event).
  explicit event_view(const lifecycle_event& x);
  event_view(const event_view&) = delete;
  event_view& operator=(const event_view&) = delete;

  event_kind kind;
  connection_id conn = 0;
  std::string_view peer;
  std::string_view local;
  std::string_view reason;
  text_list remote;
  bool usefd = true;

private:
  event_view(event_kind k, connection_id c) : kind(k), conn(c) {}
  std::string_view address_;
};

/// A typed event as a flat `lifecycle_event`, its strings moved.
lifecycle_event to_lifecycle_event(pending_inbound x);
lifecycle_event to_lifecycle_event(pending_outbound x);
lifecycle_event to_lifecycle_event(established_inbound x);
lifecycle_event to_lifecycle_event(established_outbound x);
lifecycle_event to_lifecycle_event(dial_failure x);
lifecycle_event to_lifecycle_event(listen_failure x);
lifecycle_event to_lifecycle_event(connection_closed x);
lifecycle_event to_lifecycle_event(stream_opened x);
lifecycle_event to_lifecycle_event(stream_protocol x);
lifecycle_event to_lifecycle_event(stream_service x);
lifecycle_event to_lifecycle_event(stream_closed x);
lifecycle_event to_lifecycle_event(reserve_memory x);
lifecycle_event to_lifecycle_event(release_memory x);

/// Appends events to a batch, each distinct text once.
class batch_writer {
public:
  explicit batch_writer(lifecycle_batch& out) : out_(&out) {}

  /// The index of `text` in the batch, added if new; `no_text` for "".
  text_ref text(std::string_view text);
  void add(const lifecycle_event& e);
  void add(event_kind kind, connection_id conn, std::string_view peer,
           std::string_view local, const text_list& remote, std::string_view reason,
           bool usefd = true);

  // Stream and memory events (no allocation once the batch's vectors and
  // table have grown).
  void add_stream_opened(stream_id stream, std::string_view peer, direction dir,
                         std::optional<connection_id> conn = std::nullopt);
  void add_stream_protocol(stream_id stream, std::string_view protocol);
  void add_stream_service(stream_id stream, std::string_view service);
  void add_stream_closed(stream_id stream);
  /// `scope`: "conn-<n>" or "stream-<n>".
  void add_reserve_memory(std::string_view scope, std::uint64_t bytes,
                          std::uint8_t priority = 255);
  void add_release_memory(std::string_view scope, std::uint64_t bytes);
  /// The same with the scope as a holder: no text to write, and none for
  /// the gate to parse (the entry reads as the text form would).
  void add_reserve_memory(holder_ref holder, std::uint64_t bytes,
                          std::uint8_t priority = 255);
  void add_release_memory(holder_ref holder, std::uint64_t bytes);

private:
  text_ref lookup(std::string_view text, std::size_t hash) const;
  void index(std::size_t hash, text_ref r);

  lifecycle_batch* out_;
  // The last texts used, by address: a caller passing the same string object
  // again (a node's local address, a connection's peer id for each of its
  // events) is matched with one compare, without hashing.
  struct recent_text {
    const char* data = nullptr;
    std::size_t size = 0;
    text_ref ref = no_text;
  };
  static constexpr std::size_t recent_size = 8;
  recent_text recent_[recent_size];
  std::size_t recent_next_ = 0;
  // Open addressing on the texts' hashes (not on views into `texts`: those
  // would dangle when its block of characters grows). Empty slots hold
  // `no_text`; a collision only costs a compare.
  struct slot {
    std::size_t hash = 0;
    text_ref ref = no_text;
  };
  // The first table is `inline_` (64 texts at half full; a batch of 21
  // connections names 44), larger ones are on the heap: a table grown anew
  // for each batch was two heap blocks per batch (1 and 4 KiB), which a
  // profile of the batched lifecycle found in the allocator's slow path.
  static constexpr std::size_t inline_slots = 128;
  slot* table() { return slots_ > inline_slots ? spill_.data() : inline_.data(); }
  const slot* table() const {
    return slots_ > inline_slots ? spill_.data() : inline_.data();
  }
  std::size_t slots_ = 0; // the table's size; 0 before the first text
  std::array<slot, inline_slots> inline_;
  std::vector<slot> spill_;
};

// -- outcome_batch ----------------------------------------------------------------

/// `admitted`, with its texts by reference into the outcome batch.
struct admitted_entry {
  connection_id conn = 0;
  conn_state state = conn_state::pending;
  direction dir = direction::inbound;
  text_ref peer = no_text;
  text_ref local = no_text;
  std::uint32_t remote_at = 0;
  std::uint32_t remote_count = 0;
  bool bypassed = false;
  time_ns at = 0;
  /// Dry run: the index of its would-denial in `would_denials`, or none.
  std::uint32_t would_deny = no_would_deny;

  static constexpr std::uint32_t no_would_deny = 0xffffffff;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admitted_entry& x) {
  return f(caf::meta::type_name("admitted_entry"), x.conn, x.state, x.dir, x.peer,
           x.local, x.remote_at, x.remote_count, x.bypassed, x.at, x.would_deny);
}

/// `released`, with its texts by reference into the outcome batch.
struct released_entry {
  connection_id conn = 0;
  event_kind cause = event_kind::connection_closed;
  text_ref peer = no_text;
  text_ref reason = no_text;
  time_ns at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, released_entry& x) {
  return f(caf::meta::type_name("released_entry"), x.conn, x.cause, x.peer, x.reason,
           x.at);
}

/// Which list of an outcome batch an outcome is in. An enum, not a byte:
/// CAF 0.17 reads a vector of enums one element at a time, while it resizes a
/// plain std::vector<std::uint8_t> to the length its input announces before it
/// checks that the bytes are there (8 bytes from a remote node would make the
/// receiver allocate 4 GB). The bytes on the wire are the same.
enum class outcome_kind : std::uint8_t { admitted, denied, released };
std::string to_string(outcome_kind x);

/// The outcomes of one `lifecycle_batch`, published to each subscriber as
/// one message instead of one message per outcome. `texts` and `lists` are
/// the lifecycle batch's own (plus any text the gate knew and the event did
/// not name). `order` lists the outcomes in event order, each the next of
/// `admits`, `denials` or `releases`. Write one with an `outcome_writer`;
/// read it with `for_each_outcome` (or subscribe a `spawn_listener` actor,
/// which reads it for you).
struct outcome_batch {
  text_table texts;
  std::vector<text_ref> lists;
  std::vector<outcome_kind> order;
  std::vector<admitted_entry> admits;
  std::vector<denied> denials;
  std::vector<released_entry> releases;
  /// What rules in dry run would have denied, for the admits that name one.
  std::vector<denial> would_denials;

  bool empty() const { return order.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome_batch& x) {
  return f(caf::meta::type_name("outcome_batch"), x.texts, x.lists, x.order, x.admits,
           x.denials, x.releases, x.would_denials);
}

/// An `admitted` outcome read in place: from a batch or from an `admitted`.
struct admitted_view {
  connection_id conn = 0;
  conn_state state = conn_state::pending;
  direction dir = direction::inbound;
  std::string_view peer;
  std::string_view local;
  text_list remote;
  bool bypassed = false;
  time_ns at = 0;
  /// Dry run: what a rule would have denied (null when nothing); valid
  /// while the batch is.
  const denial* would_deny = nullptr;

  admitted owned() const;
};

/// A `released` outcome read in place.
struct released_view {
  connection_id conn = 0;
  event_kind cause = event_kind::connection_closed;
  std::string_view peer;
  std::string_view reason;
  time_ns at = 0;

  released owned() const;
};

admitted_view view_of(const admitted& x);
released_view view_of(const released& x);

/// Whether `b` is well formed: `order` names exactly the outcomes the lists
/// hold, and every reference lies inside `texts` and `lists`. A batch from a
/// remote sender may be neither.
bool well_formed(const outcome_batch& b);

/// Calls `on_admitted(const admitted_view&)`, `on_denied(const denied&)` or
/// `on_released(const released_view&)` for each outcome, in event order. A
/// malformed batch is refused whole: nothing is called and the result is
/// false. The views are valid while `b` is.
template <class A, class D, class R>
bool for_each_outcome(const outcome_batch& b, A&& on_admitted, D&& on_denied,
                      R&& on_released) {
  if (!well_formed(b))
    return false;
  auto text = [&b](text_ref r) { return r == no_text ? std::string_view{} : b.texts[r]; };
  std::size_t a = 0, d = 0, r = 0;
  for (auto k : b.order) {
    switch (k) {
    case outcome_kind::admitted: {
      auto& x = b.admits[a++];
      on_admitted(
          admitted_view{x.conn, x.state, x.dir, text(x.peer), text(x.local),
                        text_list{b.texts, b.lists.data() + x.remote_at, x.remote_count},
                        x.bypassed, x.at,
                        x.would_deny == admitted_entry::no_would_deny
                            ? nullptr
                            : &b.would_denials[x.would_deny]});
      break;
    }
    case outcome_kind::denied:
      on_denied(b.denials[d++]);
      break;
    case outcome_kind::released: {
      auto& x = b.releases[r++];
      on_released(released_view{x.conn, x.cause, text(x.peer), text(x.reason), x.at});
      break;
    }
    }
  }
  return true;
}

/// Appends outcomes to an outcome batch, as `batch_writer` appends events to
/// a lifecycle batch. The events it writes outcomes for refer to the batch's
/// texts: those of the lifecycle batch they came in (its table moved over),
/// or those `add_texts` copied in for a single event.
///
/// A text added here (a peer the event did not name, a fixed reason) may move
/// the table's characters: no view from `text_of` is held across a call that
/// writes.
class outcome_writer {
public:
  explicit outcome_writer(outcome_batch& out) : out_(&out) {}

  /// Appends `text` (`no_text` for ""). No search for an equal text: the
  /// events' own texts are in the table already.
  text_ref text(std::string_view text) {
    return text.empty() ? no_text : out_->texts.push(text);
  }
  std::string_view text_of(text_ref r) const {
    return r == no_text ? std::string_view{} : out_->texts[r];
  }

  /// Copies a single event's texts into the batch; returns the event
  /// referring to them.
  batch_event add_texts(const lifecycle_event& e);
  batch_event add_texts(const event_view& e);

  /// Event `e` admitted the connection into `state`. `known` is the
  /// connection's peer when it is not the one the event named.
  void admitted(const batch_event& e, conn_state state, direction dir,
                const std::optional<peer_id>& known, bool bypassed, time_ns at);
  void denied(const batch_event& e, denial why, time_ns at);
  /// The outcome written last, an admission, carries a dry run's `why`.
  void would_deny(const denial& why);
  /// Event `e` released the connection; `fixed_reason` replaces the event's
  /// reason when not empty (a failure's).
  void released(const batch_event& e, const std::optional<peer_id>& known,
                std::string_view fixed_reason, time_ns at);

private:
  outcome_batch* out_;
};

} // namespace rcmgr
