// A batch entry's trace line written as text (actors/trace/trace_text.*) is
// byte for byte the line trace_line builds through JSON, for every event
// kind, any text (plain, to be escaped, not UTF-8) and any verdict.
#include <array>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include "actors/trace/trace_lines.hpp"
#include "actors/trace/trace_text.hpp"

using namespace rcmgr;

namespace {

/// The line the general road writes for entry `e`.
std::string json_line(time_ns t, const lifecycle_batch& b, const batch_event& e,
                      const verdict& v) {
  return trace_line(t, trace_event_json(*batch_entry_event(b.texts, b.lists, e)), v) +
         "\n";
}

std::string text_line(time_ns t, const lifecycle_batch& b, const batch_event& e,
                      const verdict& v) {
  std::string block = "before\n"; // appended to, never overwritten
  CHECK(append_trace_line(block, t, b.texts, b.lists, e, v));
  return block.substr(7);
}

/// The line a batch's writer writes, which read the batch's table first.
std::string batch_line(time_ns t, const lifecycle_batch& b, const batch_event& e,
                       const verdict& v) {
  trace_text_writer writer{t, b.texts};
  std::string block = "before\n";
  CHECK(writer.append(block, b.texts, b.lists, e, v));
  return block.substr(7);
}

/// Texts mostly plain, sometimes empty, sometimes with what JSON escapes or
/// bytes that are not UTF-8.
rc::Gen<std::string> texts() {
  static const std::array<std::string, 10> pieces{"QmPeer",
                                                  "/ip4/10.0.0.1/tcp/4001",
                                                  "/echo/1.0.0",
                                                  "",
                                                  "a\"b",
                                                  "c\\d",
                                                  "line\nbreak",
                                                  std::string{"\x01\x7f", 2},
                                                  "\xc3\xa9t\xc3\xa9",
                                                  "\xff\xfe"};
  return rc::gen::map(rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 10)),
                      [](const std::vector<int>& ks) {
                        std::string s;
                        for (auto k : ks)
                          s += pieces[static_cast<std::size_t>(k) % pieces.size()];
                        return s;
                      });
}

verdict some_verdict(int which, const std::string& text) {
  denial d;
  d.code = denial_code::rate_limit;
  d.peer = text;
  d.retry_after_ms = 17;
  switch (which) {
  case 0:
    return verdict::allow();
  case 1:
    return verdict::ok();
  case 2:
    return verdict::deny(d);
  case 3:
    return verdict::allow_but(d);
  default:
    return verdict::fail(text);
  }
}

} // namespace

TEST_CASE("a batch entry's trace line, exactly") {
  lifecycle_batch b;
  batch_writer w{b};
  std::vector<std::string> remotes{"/ip4/10.0.0.1/tcp/1", "/ip6/::1/tcp/2"};
  w.add(event_kind::pending_outbound, 7, "QmA", "", text_list{remotes}, "", false);
  w.add_reserve_memory("stream-3", 4096, 2);
  w.add_release_memory(holder_ref{holder_ref::kind_t::stream, 18446744073709551615u}, 1);
  w.add_reserve_memory(holder_ref{holder_ref::kind_t::conn, 0}, 2, 0);
  std::string block;
  CHECK(append_trace_line(block, 2'500'000'001, b.texts, b.lists, b.events[0],
                          verdict::allow()));
  CHECK(append_trace_line(block, 2'500'000'001, b.texts, b.lists, b.events[1],
                          verdict::ok()));
  CHECK(append_trace_line(block, 2'500'000'001, b.texts, b.lists, b.events[2],
                          verdict::ok()));
  CHECK(append_trace_line(block, 2'500'000'001, b.texts, b.lists, b.events[3],
                          verdict::allow()));
  CHECK(
      block ==
      R"({"t":2500,"t_ns":2500000001,"event":"pending_outbound","addresses":["/ip4/10.0.0.1/tcp/1","/ip6/::1/tcp/2"],"conn":7,"peer":"QmA","usefd":false,"verdict":"allow"})"
      "\n"
      R"({"t":2500,"t_ns":2500000001,"event":"reserve_memory","bytes":4096,"priority":2,"scope":"stream-3","verdict":"ok"})"
      "\n"
      R"({"t":2500,"t_ns":2500000001,"event":"release_memory","bytes":1,"scope":"stream-18446744073709551615","verdict":"ok"})"
      "\n"
      R"({"t":2500,"t_ns":2500000001,"event":"reserve_memory","bytes":2,"priority":0,"scope":"conn-0","verdict":"allow"})"
      "\n");
}

TEST_CASE("a bad entry has no line") {
  lifecycle_batch b;
  batch_writer w{b};
  w.add_stream_protocol(1, "/echo/1");
  b.events[0].text = 99; // outside the batch's texts
  std::string block = "x";
  CHECK_FALSE(append_trace_line(block, 0, b.texts, b.lists, b.events[0], verdict::ok()));
  CHECK(block == "x");
  lifecycle_batch c;
  batch_writer cw{c};
  cw.add(event_kind::dial_failure, 3, "", "", {}, "");
  c.events[0].kind = static_cast<event_kind>(200); // no such kind
  CHECK_FALSE(append_trace_line(block, 0, c.texts, c.lists, c.events[0], verdict::ok()));
  CHECK(block == "x");
}

TEST_CASE("property: the text road writes what the JSON road writes") {
  auto ok = rc::check("trace lines agree", [] {
    auto kind = *rc::gen::inRange(0, 13);
    auto peer = *texts();
    auto local = *texts();
    auto reason = *texts();
    auto name = *texts();
    auto remotes = *rc::gen::container<std::vector<std::string>>(texts());
    auto conn = *rc::gen::arbitrary<std::uint64_t>();
    auto big = *rc::gen::arbitrary<std::uint64_t>();
    auto usefd = *rc::gen::arbitrary<bool>();
    auto has_conn = *rc::gen::arbitrary<bool>();
    auto priority = *rc::gen::arbitrary<std::uint8_t>();
    auto t = *rc::gen::inRange<time_ns>(-5, time_ns{1} << 50);
    auto v = some_verdict(*rc::gen::inRange(0, 5), peer);
    auto as_holder = *rc::gen::arbitrary<bool>();
    holder_ref holder{has_conn ? holder_ref::kind_t::conn : holder_ref::kind_t::stream,
                      conn};
    lifecycle_batch b;
    batch_writer w{b};
    auto k = static_cast<event_kind>(kind);
    switch (k) {
    case event_kind::stream_opened:
      w.add_stream_opened(conn, peer, usefd ? direction::inbound : direction::outbound,
                          has_conn ? std::optional<connection_id>{big} : std::nullopt);
      break;
    case event_kind::stream_protocol:
      w.add_stream_protocol(conn, name);
      break;
    case event_kind::stream_service:
      w.add_stream_service(conn, name);
      break;
    case event_kind::stream_closed:
      w.add_stream_closed(conn);
      break;
    case event_kind::reserve_memory:
      if (as_holder)
        w.add_reserve_memory(holder, big, priority);
      else
        w.add_reserve_memory(name, big, priority);
      break;
    case event_kind::release_memory:
      if (as_holder)
        w.add_release_memory(holder, big);
      else
        w.add_release_memory(name, big);
      break;
    default:
      w.add(k, conn, peer, local, text_list{remotes}, reason, usefd);
    }
    RC_ASSERT(b.events.size() == 1u);
    auto expected = json_line(t, b, b.events[0], v);
    RC_ASSERT(text_line(t, b, b.events[0], v) == expected);
    RC_ASSERT(batch_line(t, b, b.events[0], v) == expected);
  });
  CHECK(ok);
}

TEST_CASE("every byte at every place of a text: the text road writes what JSON writes") {
  // The fast road reads texts eight bytes at a time; a byte JSON escapes or
  // replaces must be seen wherever it sits, and the bytes next to the
  // classes' edges must not be taken for one.
  std::vector<std::string> bytes;
  for (int c = 0; c < 256; ++c)
    bytes.emplace_back(1, static_cast<char>(c));
  int compared = 0;
  for (std::size_t len : {1u, 7u, 8u, 9u, 16u, 23u}) {
    for (std::size_t at = 0; at < len; ++at) {
      for (auto& b : bytes) {
        std::string peer(len, 'x');
        peer.replace(at, 1, b);
        lifecycle_batch batch;
        batch_writer w{batch};
        w.add_stream_opened(4, peer, direction::inbound, std::nullopt);
        auto v = verdict::allow();
        REQUIRE(text_line(9, batch, batch.events[0], v) ==
                json_line(9, batch, batch.events[0], v));
        ++compared;
      }
    }
  }
  CHECK(compared == 64 * 256);
}

TEST_CASE("a line longer than the fast road's buffer is written all the same") {
  for (std::size_t len : {700u, 1000u, 5000u}) {
    std::string peer(len, 'p');
    std::vector<std::string> remotes{std::string(len, 'r'), "/ip4/10.0.0.1/tcp/1"};
    lifecycle_batch b;
    batch_writer w{b};
    w.add(event_kind::pending_outbound, 7, peer, "", text_list{remotes}, "", true);
    auto line = text_line(3, b, b.events[0], verdict::allow());
    CHECK(line == json_line(3, b, b.events[0], verdict::allow()));
    CHECK(line.size() > 2 * len);
  }
}

TEST_CASE("a batch's writer: a text to escape anywhere in the table, or another table") {
  // The writer checks a table's texts once; a line of that table must still
  // be escaped when any of its texts needs it, and a line of a table the
  // writer did not read is checked as ever.
  lifecycle_batch b;
  batch_writer w{b};
  std::vector<std::string> remote{"/ip4/10.0.0.1/tcp/1"};
  w.add(event_kind::established_inbound, 1, "QmPlain", "/ip4/0.0.0.0/tcp/4001",
        text_list{remote}, "", true);
  w.add(event_kind::connection_closed, 1, "QmPlain", "", {}, "said \"bye\"");
  trace_text_writer plain_first{5'000'000, b.texts};
  std::string block;
  for (auto& e : b.events)
    CHECK(plain_first.append(block, b.texts, b.lists, e, verdict::ok()));
  CHECK(
      block ==
      R"({"t":5,"t_ns":5000000,"event":"established_inbound","conn":1,"local":"/ip4/0.0.0.0/tcp/4001","peer":"QmPlain","remote":"/ip4/10.0.0.1/tcp/1","verdict":"ok"})"
      "\n"
      R"({"t":5,"t_ns":5000000,"event":"connection_closed","conn":1,"peer":"QmPlain","reason":"said \"bye\"","verdict":"ok"})"
      "\n");
  lifecycle_batch plain;
  batch_writer pw{plain};
  pw.add_stream_protocol(2, "/echo/1");
  trace_text_writer other{5'000'000, plain.texts};
  std::string line;
  CHECK(other.append(line, b.texts, b.lists, b.events[1], verdict::ok()));
  CHECK(line == json_line(5'000'000, b, b.events[1], verdict::ok()));
  CHECK(line.find(R"("reason":"said \"bye\"")") != std::string::npos);
}
