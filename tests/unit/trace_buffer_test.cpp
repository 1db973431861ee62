// The decision trace's core: the bounded, time-ordered buffer and the lines
// it holds (docs/trace.md).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/trace/block_pool.hpp"
#include "actors/trace/trace_backlog.hpp"
#include "actors/trace/trace_buffer.hpp"
#include "actors/trace/trace_lines.hpp"

using namespace rcmgr;

namespace {

/// A sink that keeps every block it is handed, or fails.
struct recording_sink {
  std::vector<std::string> blocks;
  bool fail = false;
  trace_sink fn() {
    return [this](const std::vector<std::string_view>& pieces) {
      if (fail)
        return false;
      auto& block = blocks.emplace_back();
      for (auto piece : pieces)
        block += piece;
      return true;
    };
  }
};

} // namespace

TEST_CASE("a flush hands the lines up to a time to the sink, in time order") {
  trace_buffer buf{1000};
  recording_sink sink;
  CHECK(buf.append(20, "b"));
  CHECK(buf.append(10, "a"));
  CHECK(buf.append(20, "c")); // equal times keep their arrival order
  CHECK(buf.append(30, "d"));
  CHECK(buf.lines() == 4);
  CHECK(buf.bytes() == 8);
  CHECK(buf.flush(20, sink.fn()) == 3);
  REQUIRE(sink.blocks.size() == 1);
  CHECK(sink.blocks[0] == "a\nb\nc\n");
  CHECK(buf.lines() == 1);
  CHECK(buf.bytes() == 2);
  CHECK(buf.flush(25, sink.fn()) == 0); // nothing that old: the sink is not called
  CHECK(sink.blocks.size() == 1);
  CHECK(buf.flush_all(sink.fn()) == 1);
  CHECK(sink.blocks[1] == "d\n");
  CHECK(buf.counts().written_lines == 4);
  CHECK(buf.counts().late_lines == 0);
  CHECK(buf.bytes() == 0);
}

TEST_CASE("a full buffer drops and counts lines, and takes them again once flushed") {
  trace_buffer buf{10}; // each line counts its '\n'
  recording_sink sink;
  CHECK(buf.append(1, "1234"));   // 5 bytes
  CHECK(buf.append(2, "5678"));   // 10 bytes: full
  CHECK_FALSE(buf.append(3, "")); // even an empty line takes a byte
  CHECK_FALSE(buf.append(4, "x"));
  CHECK(buf.counts().dropped_lines == 2);
  CHECK(buf.bytes() == 10);
  CHECK(buf.lines() == 2);
  CHECK_FALSE(buf.append(5, "a line longer than the whole buffer"));
  CHECK(buf.counts().dropped_lines == 3);
  CHECK(buf.flush(1, sink.fn()) == 1);
  CHECK(buf.append(6, "abcd"));
  CHECK(buf.bytes() == 10);
  CHECK(buf.counts().dropped_lines == 3);
}

TEST_CASE("a failing sink loses its lines, counted; the buffer goes on") {
  trace_buffer buf{100};
  recording_sink sink;
  sink.fail = true;
  buf.append(1, "a");
  buf.append(2, "b");
  CHECK(buf.flush_all(sink.fn()) == 2);
  CHECK(buf.counts().write_errors == 1);
  CHECK(buf.counts().lost_lines == 2);
  CHECK(buf.counts().written_lines == 0);
  CHECK(buf.bytes() == 0);
  sink.fail = false;
  buf.append(3, "c");
  CHECK(buf.flush_all(sink.fn()) == 1);
  CHECK(sink.blocks == std::vector<std::string>{"c\n"});
  CHECK(buf.counts().write_errors == 1);
  CHECK(buf.counts().written_lines == 1);
  CHECK(buf.flush_all(trace_sink{}) == 0); // nothing left: no call, no error
  buf.append(4, "d");
  CHECK(buf.flush_all(trace_sink{}) == 1); // no sink at all is a failed write
  CHECK(buf.counts().write_errors == 2);
  CHECK(buf.counts().lost_lines == 3);
}

TEST_CASE("a line older than one already written is late: counted, still written") {
  trace_buffer buf{100};
  recording_sink sink;
  buf.append(50, "a");
  buf.flush(60, sink.fn());
  CHECK(buf.append(40, "late"));
  CHECK(buf.append(50, "same time is not late"));
  CHECK(buf.counts().late_lines == 1);
  buf.flush_all(sink.fn());
  CHECK(sink.blocks[1] == "late\nsame time is not late\n");
}

TEST_CASE("a trace line: t in whole ms, t_ns exact, the event, then the verdict") {
  auto ev =
      trace_event_json(pending_inbound{7, "/ip4/1.2.3.4/tcp/1", "/ip4/5.6.7.8/tcp/2"});
  CHECK(
      trace_line(1'234'567'891, ev, verdict::allow()) ==
      R"({"t":1234,"t_ns":1234567891,"event":"pending_inbound","conn":7,)"
      R"("local":"/ip4/1.2.3.4/tcp/1","remote":"/ip4/5.6.7.8/tcp/2","verdict":"allow"})");
  auto d = connection_limit_denial(limit_kind::pending_inbound, 2, 2, 7, "");
  CHECK(
      trace_line(5, ev, verdict::deny(d)) ==
      R"({"t":0,"t_ns":5,"event":"pending_inbound","conn":7,)"
      R"("local":"/ip4/1.2.3.4/tcp/1","remote":"/ip4/5.6.7.8/tcp/2","verdict":"deny",)"
      R"("denial":{"code":"connection_limit","conn":7,"current":2,"kind":"pending_inbound","limit":2}})");
  CHECK(trace_line(-3, trace_event_json(dial_failure{1}), verdict::ok()) ==
        R"({"t":0,"t_ns":0,"event":"dial_failure","conn":1,"verdict":"ok"})");
  CHECK(
      trace_line(0, trace_event_json(bypass_peer{"QmA"}), verdict::fail("no")) ==
      R"({"t":0,"t_ns":0,"event":"bypass_peer","peer":"QmA","verdict":"error","error":"no"})");
}

TEST_CASE("memory samples keep their cgroup figures; peer blocks have an event form") {
  memory_sample s;
  s.rss = 10;
  s.total = 100;
  CHECK(trace_event_json(s).dump() ==
        R"({"event":"memory_sample","rss":10,"total":100})");
  s.cgroup_limit = 50;
  s.cgroup_usage = 20;
  CHECK(
      trace_event_json(s).dump() ==
      R"({"cgroup_limit":50,"cgroup_usage":20,"event":"memory_sample","rss":10,"total":100})");
  CHECK(peer_blocked_json("QmB", 2'000'000'001).dump() ==
        R"({"event":"peer_blocked","peer":"QmB","until_ns":2000000001})");
}

TEST_CASE("a batch entry reads back as the typed event it stands for") {
  lifecycle_batch b;
  batch_writer w{b};
  std::vector<std::string> addrs{"/ip4/1.1.1.1/tcp/1", "/ip4/2.2.2.2/tcp/2"};
  w.add(event_kind::pending_outbound, 3, "QmP", "", text_list{addrs}, "");
  std::string remote = "/ip4/9.9.9.9/tcp/9";
  w.add(event_kind::established_inbound, 4, "QmQ", "/ip4/0.0.0.0/tcp/4001",
        text_list{&remote, 1}, "", false);
  w.add(event_kind::connection_closed, 4, "QmQ", "", {}, "idle");
  w.add_stream_opened(11, "QmQ", direction::outbound, 4);
  w.add_reserve_memory("stream-11", 4096, 7);
  std::vector<std::string> lines;
  for (auto& e : b.events) {
    auto ev = batch_entry_event(b.texts, b.lists, e);
    REQUIRE(ev);
    lines.push_back(trace_event_json(*ev).dump());
  }
  CHECK(
      lines ==
      std::vector<std::string>{
          R"({"addresses":["/ip4/1.1.1.1/tcp/1","/ip4/2.2.2.2/tcp/2"],"conn":3,"event":"pending_outbound","peer":"QmP"})",
          R"({"conn":4,"event":"established_inbound","local":"/ip4/0.0.0.0/tcp/4001","peer":"QmQ","remote":"/ip4/9.9.9.9/tcp/9","usefd":false})",
          R"({"conn":4,"event":"connection_closed","peer":"QmQ","reason":"idle"})",
          R"({"conn":4,"dir":"outbound","event":"stream_opened","peer":"QmQ","stream":11})",
          R"({"bytes":4096,"event":"reserve_memory","priority":7,"scope":"stream-11"})"});
  auto bad = b.events[0];
  bad.peer = 9999; // outside the text table
  CHECK_FALSE(batch_entry_event(b.texts, b.lists, bad));
}

TEST_CASE("a block of lines is buffered, dropped and counted whole") {
  trace_buffer buf{20};
  recording_sink sink;
  CHECK(buf.append(5, "z"));                     // 2 bytes
  CHECK(buf.append_lines(3, "a\nbb\nccc\n", 3)); // 9 bytes, 3 lines
  CHECK(buf.lines() == 4);
  CHECK(buf.bytes() == 11);
  CHECK_FALSE(buf.append_lines(4, "dddd\neeee\n", 2)); // 10 more do not fit
  CHECK(buf.counts().dropped_lines == 2);
  CHECK(buf.append_lines(6, "", 0)); // nothing to buffer
  CHECK(buf.lines() == 4);
  CHECK(buf.flush(4, sink.fn()) == 3);
  REQUIRE(sink.blocks.size() == 1);
  CHECK(sink.blocks[0] == "a\nbb\nccc\n");
  CHECK(buf.counts().written_lines == 3);
  CHECK(buf.append_lines(2, "late\n", 1)); // older than a line written
  CHECK(buf.counts().late_lines == 1);
  sink.fail = true;
  CHECK(buf.flush_all(sink.fn()) == 2);
  CHECK(buf.counts().lost_lines == 2);
  CHECK(buf.lines() == 0);
  CHECK(buf.bytes() == 0);
}

TEST_CASE("under pressure the lines older than the newest by the hold-back are written") {
  trace_buffer buf{20};
  recording_sink sink;
  CHECK(buf.append(100, "abcd")); // 5 bytes: under half the capacity
  CHECK(buf.relieve(10, sink.fn()) == 0);
  CHECK(sink.blocks.empty());
  CHECK(buf.append(105, "efgh"));         // 10 bytes: half
  CHECK(buf.relieve(10, sink.fn()) == 0); // nothing older than 105 - 10
  CHECK(buf.append(111, "ijkl"));
  CHECK(buf.relieve(10, sink.fn()) == 1); // 100 <= 111 - 10
  REQUIRE(sink.blocks.size() == 1);
  CHECK(sink.blocks[0] == "abcd\n");
  CHECK(buf.lines() == 2);
  CHECK(buf.bytes() == 10);
  // The next relief waits for an eighth of the capacity (2 bytes) more.
  CHECK(buf.relieve(0, sink.fn()) == 0);
  CHECK(buf.append(112, "m")); // 12 bytes
  CHECK(buf.relieve(0, sink.fn()) == 3);
  CHECK(sink.blocks[1] == "efgh\nijkl\nm\n");
  CHECK(buf.counts().written_lines == 4);
  CHECK(buf.relieve(0, sink.fn()) == 0); // empty
}

TEST_CASE(
    "reliefs write in pieces of an eighth of the buffer; a flush starts them over") {
  trace_buffer buf{80}; // half: 40 bytes; an eighth: 10
  recording_sink sink;
  std::string line(9, 'x'); // 10 bytes with its newline
  for (time_ns t = 0; t < 4; ++t)
    CHECK(buf.append(t, line));
  CHECK(buf.relieve(100, sink.fn()) == 0); // 40 bytes, none older than 3 - 100
  CHECK(buf.append(4, "abc"));
  CHECK(buf.relieve(0, sink.fn()) == 0); // 4 bytes more than after the try: not yet
  CHECK(buf.append(5, line));
  CHECK(buf.relieve(0, sink.fn()) == 6); // 14 more
  CHECK(sink.blocks.size() == 1);
  CHECK(buf.bytes() == 0);
  for (time_ns t = 10; t < 14; ++t)
    CHECK(buf.append(t, line));
  CHECK(buf.relieve(100, sink.fn()) == 0); // a try at 40 bytes
  CHECK(buf.flush_all(sink.fn()) == 4);    // the timer's flush
  for (time_ns t = 20; t < 24; ++t)
    CHECK(buf.append(t, line));
  CHECK(buf.relieve(0, sink.fn()) == 4); // 40 bytes more than after the flush
  CHECK(buf.counts().written_lines == 14);
}

TEST_CASE("a relief near a full buffer does not wait for the eighth") {
  trace_buffer buf{80}; // three quarters: 60 bytes
  recording_sink sink;
  std::string line(9, 'x');
  for (time_ns t = 0; t < 6; ++t)
    CHECK(buf.append(t, line));
  CHECK(buf.relieve(100, sink.fn()) == 0); // a try at 60 bytes: none old enough
  CHECK(buf.append(6, "abc"));             // 64 bytes, 4 more than after the try
  CHECK(buf.relieve(2, sink.fn()) == 5);   // written all the same: t 0..4
  CHECK(buf.bytes() == 14);
}

TEST_CASE("a source's trace backlog: confirmations every half bound, drops counted and "
          "reported one report at a time") {
  trace_backlog b{1000, 4000}; // confirmations every 500 bytes (half the bound)
  auto d = b.offer(300, 1);
  CHECK(d.send);
  CHECK_FALSE(d.confirm);
  d = b.offer(300, 1); // 600 sent: a confirmation of 600
  CHECK(d.send);
  REQUIRE(d.confirm);
  CHECK(*d.confirm == 600);
  d = b.offer(400, 2); // exactly the bound
  CHECK(d.send);
  CHECK_FALSE(d.confirm); // 400 since the last mark
  CHECK(b.backlog() == 1000);
  CHECK(b.take_report() == 0); // nothing dropped
  d = b.offer(1, 1);           // past the bound: dropped
  CHECK_FALSE(d.send);
  CHECK(b.take_report() == 1);
  d = b.offer(200, 3);
  CHECK_FALSE(d.send);
  CHECK(b.take_report() == 0); // the first report is still on its way
  CHECK(b.dropped_lines() == 4);
  CHECK(b.dropped_blocks() == 2);
  b.report_taken();
  CHECK(b.take_report() == 3);
  b.report_taken();
  CHECK(b.take_report() == 0);
  b.confirmed(600);
  CHECK(b.backlog() == 400);
  d = b.offer(600, 1); // fits; 1000 since the mark
  CHECK(d.send);
  REQUIRE(d.confirm);
  CHECK(*d.confirm == 1600);
  CHECK_FALSE(b.offer(1, 1).send); // backlog 1000: no room
  b.confirmed(500);                // an older mark changes nothing
  CHECK(b.backlog() == 1000);
  b.confirmed(1600);
  CHECK(b.offer(1, 1).send);
  CHECK(b.take_report() == 1);
  CHECK(b.dropped_lines() == 5);
  // A block larger than the bound never goes.
  trace_backlog small{10};
  CHECK_FALSE(small.offer(11, 1).send);
  CHECK(small.offer(10, 1).send);
}

TEST_CASE("a block pool keeps emptied blocks within its count and capacity bounds") {
  block_pool pool{2, 4096};
  auto block = [](std::size_t capacity) {
    std::string s;
    s.reserve(capacity);
    s = "line\n";
    return s;
  };
  auto kept = block(2000);
  const auto* kept_data = kept.data();
  auto kept_capacity = kept.capacity();
  pool.give(std::move(kept));
  pool.give(block(block_pool::min_capacity - 1)); // a line's string: not kept
  pool.give(block(5000));                         // past max_capacity: not kept
  CHECK(pool.size() == 1);
  pool.give(block(3000));
  pool.give(block(3000)); // the pool is full
  CHECK(pool.size() == 2);
  auto again = pool.take(100); // the last kept, emptied, its room intact
  CHECK(again.empty());
  CHECK(again.capacity() >= 3000);
  auto first = pool.take(100);
  CHECK(first.data() == kept_data);
  CHECK(first.capacity() == kept_capacity);
  CHECK(first.empty());
  CHECK(pool.size() == 0);
  auto fresh = pool.take(700); // none kept: a new one with the room asked for
  CHECK(fresh.capacity() >= 700);
  std::vector<std::string> three; // moved in: a braced list would copy them, small
  for (std::size_t c : {1500, 1600, 1700})
    three.push_back(block(c));
  pool.give_all(std::move(three));
  CHECK(pool.size() == 2);
  auto handed = pool.take_up_to(5);
  CHECK(handed.size() == 2);
  CHECK(pool.size() == 0);
  CHECK(pool.take_up_to(3).empty());
}

TEST_CASE("a scratch block hands its lines over in a kept block and keeps its room") {
  block_pool pool{2, 8192};
  std::string kept;
  kept.reserve(4096);
  const auto* kept_data = kept.data();
  pool.give(std::move(kept));
  scratch_block scratch{2048};
  auto& text = scratch.start(1500);
  CHECK(text.empty());
  CHECK(scratch.capacity() >= 1500);
  text += "a\nb\n";
  const auto* scratch_data = text.data();
  auto block = scratch.finish(pool);
  CHECK(block == "a\nb\n");
  CHECK(block.data() == kept_data); // the pool's block, not a new one
  CHECK(pool.size() == 0);
  // The next batch is written where the last one was.
  auto& again = scratch.start(100);
  CHECK(again.empty());
  CHECK(again.data() == scratch_data);
  again += "c\n";
  auto fresh = scratch.finish(pool); // the pool is empty: a new block
  CHECK(fresh == "c\n");
  // A batch that grew the scratch past its bound leaves it with no room.
  auto& big = scratch.start(3000);
  big.assign(2500, 'x');
  auto big_block = scratch.finish(pool);
  CHECK(big_block.size() == 2500);
  CHECK(scratch.capacity() < 2048);
  CHECK(scratch.start(10).empty());
  // Asked for more than it may keep, it takes only that much room: a batch
  // that writes no line leaves it within its bound.
  scratch.start(1 << 20);
  CHECK(scratch.capacity() >= 2048);
  CHECK(scratch.capacity() < 4096);
}

TEST_CASE("a trace buffer keeps the blocks it has written, emptied, for their sources") {
  trace_buffer buf{1 << 20};
  recording_sink sink;
  std::string big;
  big.reserve(2048);
  big = "a\nb\n";
  const auto* big_data = big.data();
  CHECK(buf.append_lines(1, std::move(big), 2));
  CHECK(buf.append(2, "single")); // a line's own string: too small to keep
  std::string later;
  later.reserve(2048);
  later = "c\n";
  CHECK(buf.append_lines(9, std::move(later), 1));
  CHECK(buf.flush(5, sink.fn()) == 3);
  REQUIRE(sink.blocks.size() == 1);
  CHECK(sink.blocks[0] == "a\nb\nsingle\n"); // written before it was kept
  CHECK(buf.spent().size() == 1);            // the block flushed; not the one held
  auto handed = buf.spent().take_up_to(4);
  REQUIRE(handed.size() == 1);
  CHECK(handed[0].data() == big_data);
  CHECK(handed[0].empty());
  CHECK(buf.flush_all(sink.fn()) == 1);
  CHECK(sink.blocks[1] == "c\n");
  CHECK(buf.spent().size() == 1);
}
