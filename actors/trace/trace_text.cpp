#include "actors/trace/trace_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "actors/trace/trace_lines.hpp"

namespace rcmgr {

namespace {

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
/// does.
bool plain(std::string_view s) {
  bool ok = true;
  for (char ch : s)
    ok &= plain_bytes[static_cast<unsigned char>(ch)];
  return ok;
}

/// One line's text, appended field by field. The event's fields come in the
/// order trace_line writes them: sorted by key.
class line_text {
public:
  explicit line_text(std::string& out) : out_(out) {}

  void number(std::uint64_t x) {
    char digits[20];
    auto end = std::to_chars(digits, digits + sizeof digits, x).ptr;
    out_.append(digits, end);
  }
  void quoted(std::string_view s) {
    out_ += '"';
    out_ += s;
    out_ += '"';
  }
  void key(std::string_view k) {
    out_ += ",\"";
    out_ += k;
    out_ += "\":";
  }
  void num(std::string_view k, std::uint64_t x) {
    key(k);
    number(x);
  }
  void str(std::string_view k, std::string_view s) {
    key(k);
    quoted(s);
  }
  void raw(std::string_view s) { out_ += s; }

private:
  std::string& out_;
};

bool all_plain(const batch_event_view& v) {
  if (!plain(v.peer) || !plain(v.local) || !plain(v.reason) || !plain(v.name))
    return false;
  for (std::size_t i = 0; i < v.remote.size(); ++i)
    if (!plain(v.remote[i]))
      return false;
  return true;
}

void append_general(std::string& block, time_ns since_start, const text_table& texts,
                    const std::vector<text_ref>& lists, const batch_event& e,
                    const verdict& v) {
  block +=
      trace_line(since_start, trace_event_json(*batch_entry_event(texts, lists, e)), v);
  block += '\n';
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
    out.str("scope", v.name);
    break;
  case event_kind::release_memory:
    out.num("bytes", e.bytes());
    out.str("scope", v.name);
    break;
  }
}

} // namespace

trace_text_writer::trace_text_writer(time_ns since_start) : since_start_(since_start) {
  auto t = static_cast<std::uint64_t>(std::max<time_ns>(since_start, 0));
  line_text out{head_};
  out.raw("{\"t\":");
  out.number(t / 1'000'000);
  out.num("t_ns", t);
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
  auto name = event_kind_name(e.kind);
  auto view = view_of(texts, lists, e);
  bool plain_verdict =
      !v.would_deny && (v.kind == verdict_kind::allow || v.kind == verdict_kind::ok);
  if (!plain_verdict || !all_plain(view)) {
    append_general(block, since_start_, texts, lists, e, v);
    return true;
  }
  line_text out{block};
  out.raw(head_);
  out.str("event", name);
  write_fields(out, e, view);
  out.raw(v.kind == verdict_kind::allow ? ",\"verdict\":\"allow\"}\n"
                                        : ",\"verdict\":\"ok\"}\n");
  return true;
}

} // namespace rcmgr
