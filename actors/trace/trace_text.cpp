#include "actors/trace/trace_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "actors/trace/trace_lines.hpp"

namespace rcmgr {

namespace {

/// The longest line written on the fast road; a longer one (texts of
/// hundreds of bytes) takes the general road.
constexpr std::size_t max_fast_line = 1024;

/// A bound on a plain line's bytes besides its texts: the head (two numbers
/// of at most 20 digits and their keys, 53), the event's name (31), the
/// longest kind's keys, punctuation and numbers (a memory event naming its
/// holder, 82; pending_outbound's, 67, and 3 per address besides its text)
/// and the verdict (21), with room to spare.
constexpr std::size_t fixed_bound = 256;

/// Whether an 8-byte word holds a byte JSON must escape or may replace:
/// below 0x20, 0x7f or above, a quote, a backslash. Exact for "any byte"
/// (borrows and carries only reach bytes above one that already counts).
constexpr bool word_plain(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  auto zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  auto below_space = (w - ones * 0x20) & ~w & highs;
  auto high = (w + ones) | w; // 0x7f becomes 0x80; 0x80 and above are set
  return ((below_space | (high & highs) | zero_byte(w ^ (ones * '"')) |
           zero_byte(w ^ (ones * '\\'))) == 0);
}

/// The bytes JSON writes as they are: printable ASCII but a quote and a
/// backslash.
constexpr std::array<bool, 256> plain_bytes = [] {
  std::array<bool, 256> out{};
  for (int c = 0x20; c < 0x7f; ++c)
    out[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return out;
}();

/// Text JSON writes as it is. Anything else goes the general road, which
/// escapes it (and replaces bytes that are not UTF-8) as every other line
/// does. Eight bytes at a time: the texts are most of a line.
bool plain(std::string_view s) {
  auto* p = s.data();
  auto n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (!word_plain(w))
      return false;
  }
  bool ok = true;
  for (; n > 0; ++p, --n)
    ok &= plain_bytes[static_cast<unsigned char>(*p)];
  return ok;
}

/// One line's text, written field by field through a pointer into a buffer
/// of at least the line's bound. The event's fields come in the order
/// trace_line writes them: sorted by key.
class line_text {
public:
  explicit line_text(char* out) : out_(out) {}

  void number(std::uint64_t x) { out_ = std::to_chars(out_, out_ + 20, x).ptr; }
  void raw(std::string_view s) {
    if (s.empty()) // an empty view's data may be null, which memcpy must not get
      return;
    std::memcpy(out_, s.data(), s.size());
    out_ += s.size();
  }
  void quoted(std::string_view s) {
    *out_++ = '"';
    raw(s);
    *out_++ = '"';
  }
  void key(std::string_view k) {
    raw(",\"");
    raw(k);
    raw("\":");
  }
  void num(std::string_view k, std::uint64_t x) {
    key(k);
    number(x);
  }
  void str(std::string_view k, std::string_view s) {
    key(k);
    quoted(s);
  }
  char* end() const { return out_; }

private:
  char* out_;
};

/// Whether every text of the table is plain.
bool all_plain(const text_table& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i)
    if (!plain(texts[i]))
      return false;
  return true;
}

/// The bound on a line of `v`'s texts, or 0 when one of them is not plain
/// (checked unless `known_plain`).
std::size_t plain_bound(const batch_event_view& v, bool known_plain) {
  if (!known_plain &&
      (!plain(v.peer) || !plain(v.local) || !plain(v.reason) || !plain(v.name)))
    return 0;
  auto n = fixed_bound + v.peer.size() + v.local.size() + v.reason.size() + v.name.size();
  for (std::size_t i = 0; i < v.remote.size(); ++i) {
    auto r = v.remote[i];
    if (!known_plain && !plain(r))
      return 0;
    n += r.size() + 3;
  }
  return n;
}

void append_general(std::string& block, time_ns since_start, const text_table& texts,
                    const std::vector<text_ref>& lists, const batch_event& e,
                    const verdict& v) {
  block +=
      trace_line(since_start, trace_event_json(*batch_entry_event(texts, lists, e)), v);
  block += '\n';
}

/// A memory event's scope: its text, or its holder's name (within the
/// fixed bound: "stream-" and 20 digits).
void scope(line_text& out, const batch_event& e, const batch_event_view& v) {
  auto h = e.holder();
  if (!h) {
    out.str("scope", v.name);
    return;
  }
  out.key("scope");
  out.raw(h->kind == holder_ref::kind_t::stream ? "\"stream-" : "\"conn-");
  out.number(h->id);
  out.raw("\"");
}

void write_fields(line_text& out, const batch_event& e, const batch_event_view& v) {
  auto first_remote = v.remote.empty() ? std::string_view{} : v.remote[0];
  auto usefd = [&] {
    if (!e.usefd())
      out.raw(",\"usefd\":false");
  };
  switch (e.kind) {
  case event_kind::pending_inbound:
    out.num("conn", e.conn());
    out.str("local", v.local);
    out.str("remote", first_remote);
    usefd();
    break;
  case event_kind::pending_outbound:
    out.key("addresses");
    out.raw("[");
    for (std::size_t i = 0; i < v.remote.size(); ++i) {
      if (i > 0)
        out.raw(",");
      out.quoted(v.remote[i]);
    }
    out.raw("]");
    out.num("conn", e.conn());
    if (!v.peer.empty())
      out.str("peer", v.peer);
    usefd();
    break;
  case event_kind::established_inbound:
    out.num("conn", e.conn());
    out.str("local", v.local);
    out.str("peer", v.peer);
    out.str("remote", first_remote);
    usefd();
    break;
  case event_kind::established_outbound:
    out.str("address", first_remote);
    out.num("conn", e.conn());
    out.str("peer", v.peer);
    usefd();
    break;
  case event_kind::dial_failure:
  case event_kind::listen_failure:
    out.num("conn", e.conn());
    break;
  case event_kind::connection_closed:
    out.num("conn", e.conn());
    if (!v.peer.empty())
      out.str("peer", v.peer);
    if (!v.reason.empty())
      out.str("reason", v.reason);
    break;
  case event_kind::stream_opened:
    if (e.has_conn())
      out.num("conn", e.stream_conn());
    out.str("dir", e.dir == direction::inbound ? "inbound" : "outbound");
    out.str("peer", v.peer);
    out.num("stream", e.stream());
    break;
  case event_kind::stream_protocol:
    out.str("protocol", v.name);
    out.num("stream", e.stream());
    break;
  case event_kind::stream_service:
    out.str("service", v.name);
    out.num("stream", e.stream());
    break;
  case event_kind::stream_closed:
    out.num("stream", e.stream());
    break;
  case event_kind::reserve_memory:
    out.num("bytes", e.bytes());
    out.num("priority", e.priority);
    scope(out, e, v);
    break;
  case event_kind::release_memory:
    out.num("bytes", e.bytes());
    scope(out, e, v);
    break;
  }
}

} // namespace

trace_text_writer::trace_text_writer(time_ns since_start) : since_start_(since_start) {
  auto t = static_cast<std::uint64_t>(std::max<time_ns>(since_start, 0));
  std::array<char, 64> buf{};
  line_text out{buf.data()};
  out.raw("{\"t\":");
  out.number(t / 1'000'000);
  out.num("t_ns", t);
  head_.assign(buf.data(), out.end());
}

trace_text_writer::trace_text_writer(time_ns since_start, const text_table& texts)
    : trace_text_writer(since_start) {
  if (all_plain(texts))
    plain_texts_ = &texts;
}

bool append_trace_line(std::string& block, time_ns since_start, const text_table& texts,
                       const std::vector<text_ref>& lists, const batch_event& e,
                       const verdict& v) {
  return trace_text_writer{since_start}.append(block, texts, lists, e, v);
}

bool trace_text_writer::append(std::string& block, const text_table& texts,
                               const std::vector<text_ref>& lists, const batch_event& e,
                               const verdict& v) const {
  if (!is_known(e.kind) || !refs_valid(texts, lists, e))
    return false;
  auto view = view_of(texts, lists, e);
  bool plain_verdict =
      !v.would_deny && (v.kind == verdict_kind::allow || v.kind == verdict_kind::ok);
  auto bound = plain_verdict ? plain_bound(view, &texts == plain_texts_) : 0;
  if (bound == 0 || bound > max_fast_line) {
    append_general(block, since_start_, texts, lists, e, v);
    return true;
  }
  // Written on the stack, then appended at once: one append per line, not
  // one per field.
  std::array<char, max_fast_line> buf; // written before read, up to out.end()
  line_text out{buf.data()};
  out.raw(head_);
  out.str("event", event_kind_name(e.kind));
  write_fields(out, e, view);
  out.raw(v.kind == verdict_kind::allow ? ",\"verdict\":\"allow\"}\n"
                                        : ",\"verdict\":\"ok\"}\n");
  block.append(buf.data(), out.end());
  return true;
}

} // namespace rcmgr
