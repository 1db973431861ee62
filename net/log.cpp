#include "net/log.hpp"

#include <utility>

namespace rcmgr::net {

std::string_view to_string(log_level x) {
  switch (x) {
  case log_level::debug:
    return "debug";
  case log_level::info:
    return "info";
  case log_level::warning:
    return "warning";
  case log_level::error:
    return "error";
  }
  return "unknown";
}

async_log::async_log(sink_fn sink) : async_log(std::move(sink), limits{}) {}

async_log::async_log(sink_fn sink, limits lim) : sink_(std::move(sink)), lim_(lim) {
  if (lim_.max_lines == 0)
    lim_.max_lines = 1;
  thread_ = std::thread{[this] { run(); }};
}

async_log::~async_log() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool async_log::push(log_level level, std::string_view text) {
  std::string line;
  if (text.size() > lim_.max_line_bytes) {
    line.assign(text.substr(0, lim_.max_line_bytes));
    line += " ... (cut at " + std::to_string(lim_.max_line_bytes) + " of " +
            std::to_string(text.size()) + " bytes)";
  } else {
    line.assign(text);
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stop_ || queue_.size() >= lim_.max_lines) {
      ++dropped_;
      return false;
    }
    queue_.push_back(entry{level, std::move(line)});
    ++pushed_;
  }
  wake_.notify_one();
  return true;
}

log_hook async_log::hook() {
  return [this](log_level level, std::string_view text) { push(level, text); };
}

void async_log::flush() {
  std::unique_lock<std::mutex> guard{mtx_};
  auto target = pushed_;
  drained_.wait(guard, [&] { return taken_ >= target; });
}

std::uint64_t async_log::dropped() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return dropped_;
}

async_log::sink_fn async_log::to_file(std::FILE* out, std::string prefix) {
  return [out, prefix = std::move(prefix)](log_level level, const std::string& line) {
    std::string text = prefix;
    if (level != log_level::info) {
      text += '[';
      text += to_string(level);
      text += "] ";
    }
    text += line;
    text += '\n';
    // One write per line: lines from other threads never interleave.
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
  };
}

void async_log::run() {
  std::deque<entry> batch;
  for (;;) {
    std::uint64_t lost = 0;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      wake_.wait(guard, [&] { return stop_ || !queue_.empty() || dropped_ > reported_; });
      if (queue_.empty() && dropped_ == reported_ && stop_)
        return;
      batch.swap(queue_);
      lost = dropped_ - reported_;
      reported_ = dropped_;
    }
    // Outside the lock: a slow sink never holds up push().
    auto n = batch.size();
    for (auto& e : batch) {
      try {
        sink_(e.level, e.text);
      } catch (...) {
        // A sink that throws loses its line, not the log.
      }
    }
    batch.clear();
    if (lost > 0) {
      try {
        sink_(log_level::warning,
              std::to_string(lost) + " log line(s) dropped: the log queue was full");
      } catch (...) {
      }
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      taken_ += n;
    }
    drained_.notify_all();
  }
}

} // namespace rcmgr::net
