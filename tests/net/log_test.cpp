// The node's log: bounded, asynchronous, never blocking the one who logs.
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "net/log.hpp"

using namespace rcmgr::net;

namespace {

/// A sink that holds the log thread inside its first line until released.
struct stuck_sink {
  std::mutex mtx;
  std::condition_variable cv;
  bool entered = false;
  bool released = false;
  std::vector<std::string> lines;

  async_log::sink_fn fn() {
    return [this](log_level, const std::string& line) {
      std::unique_lock<std::mutex> guard{mtx};
      lines.push_back(line);
      entered = true;
      cv.notify_all();
      cv.wait(guard, [&] { return released; });
    };
  }
  void wait_entered() {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [&] { return entered; });
  }
  void release() {
    std::lock_guard<std::mutex> guard{mtx};
    released = true;
    cv.notify_all();
  }
};

} // namespace

TEST_CASE("a sink that does not return never blocks push: lines are dropped and "
          "counted") {
  stuck_sink sink;
  async_log log{sink.fn(), async_log::limits{4, 64}};
  CHECK(log.push(log_level::info, "first"));
  sink.wait_entered(); // the log thread is stuck in the sink with "first"
  for (int i = 0; i < 4; ++i)
    CHECK(log.push(log_level::info, "queued " + std::to_string(i)));
  for (int i = 0; i < 1000; ++i)
    CHECK_FALSE(log.push(log_level::info, "dropped"));
  CHECK(log.dropped() == 1000);
  sink.release();
  log.flush();
  std::lock_guard<std::mutex> guard{sink.mtx};
  REQUIRE(sink.lines.size() == 6);
  CHECK(sink.lines[0] == "first");
  CHECK(sink.lines[4] == "queued 3");
  CHECK(sink.lines[5] == "1000 log line(s) dropped: the log queue was full");
}

TEST_CASE("a long line is cut, and says so") {
  std::vector<std::string> lines;
  {
    async_log log{[&](log_level, const std::string& l) { lines.push_back(l); },
                  async_log::limits{8, 10}};
    log.push(log_level::warning, std::string(25, 'x'));
    log.push(log_level::info, "short");
  } // the destructor hands every queued line to the sink
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "xxxxxxxxxx ... (cut at 10 of 25 bytes)");
  CHECK(lines[1] == "short");
}

TEST_CASE("the hook pushes to the log") {
  std::vector<std::pair<log_level, std::string>> lines;
  {
    async_log log{[&](log_level lv, const std::string& l) { lines.emplace_back(lv, l); }};
    auto hook = log.hook();
    hook(log_level::error, "boom");
    log.flush();
    REQUIRE(lines.size() == 1);
  }
  CHECK(lines[0].first == log_level::error);
  CHECK(lines[0].second == "boom");
}
