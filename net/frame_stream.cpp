#include "net/frame_stream.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <asio/write.hpp>

namespace rcmgr::net {

namespace {

/// Decoded frames the stream keeps room for between reads.
constexpr std::size_t kept_frame_slots = 64;
/// The largest buffer small queued frames are joined into.
constexpr std::size_t coalesce_bytes = 64 * 1024;
/// A stream that held this much at once asks the allocator, as it closes,
/// to give free memory back to the system.
constexpr std::size_t trim_after_bytes = 1024 * 1024;

/// glibc keeps freed heap memory for reuse: megabytes a peer made us queue
/// would keep the RSS up after the connection is gone.
void give_memory_back() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

time_ns steady_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

frame_stream::frame_stream(owner& o, tcp::socket sock, std::size_t max_frame_size,
                           std::size_t write_high_water)
    : owner_(o), socket_(std::move(sock)), high_water_(write_high_water),
      decoder_(max_frame_size), throttle_timer_(socket_.get_executor()) {}

frame_stream::frame_stream(owner& o, const executor_type& exec,
                           std::size_t max_frame_size, std::size_t write_high_water)
    : owner_(o), socket_(exec), high_water_(write_high_water), decoder_(max_frame_size),
      throttle_timer_(exec) {}

// -- reading ------------------------------------------------------------------

void frame_stream::start_reading() {
  if (reader_ == reader::stopped)
    reader_ = reader::idle;
  pump();
}

bool frame_stream::may_deliver() const {
  return mode_ == mode::open && !paused_ && out_bytes_ <= high_water_ &&
         owner_.taking_frames();
}

void frame_stream::pump() {
  while (next_frame_ < frames_.size() && may_deliver()) {
    frame f = std::move(frames_[next_frame_++]);
    owner_.on_frame(f);
  }
  if (next_frame_ < frames_.size() || reader_ != reader::idle || !may_deliver())
    return;
  // A read of tiny frames can decode thousands: do not keep room for them.
  if (frames_.capacity() > kept_frame_slots)
    std::vector<frame>{}.swap(frames_);
  else
    frames_.clear();
  next_frame_ = 0;
  std::size_t max_read = buf_.size();
  if (throttle_.limited()) {
    auto b = throttle_.allow(buf_.size(), steady_now());
    if (b.bytes == 0)
      return wait_for_tokens(b.wait);
    max_read = b.bytes;
  }
  read_some(max_read);
}

void frame_stream::read_some(std::size_t max_read) {
  reader_ = reader::reading;
  socket_.async_read_some(asio::buffer(buf_.data(), max_read),
                          [this, keep = owner_.keep_alive()](
                              std::error_code ec, std::size_t n) { on_read(ec, n); });
}

void frame_stream::on_read(std::error_code ec, std::size_t n) {
  reader_ = reader::idle;
  if (mode_ != mode::open)
    return;
  if (ec) {
    if (ec == asio::error::eof)
      owner_.on_stream_failed(stream_failure::eof, "eof");
    else
      owner_.on_stream_failed(stream_failure::io_error, ec.message());
    return;
  }
  bytes_in_ += n;
  throttle_.consume(n);
  most_held_ = std::max(most_held_, out_bytes_ + decoder_.buffered() + n);
  decode_error err;
  try {
    err = decoder_.feed(buf_.data(), n, frames_);
  } catch (const std::exception& e) {
    err = decode_error{decode_error_kind::bad_frame, e.what()};
  }
  if (err) {
    // Garbage or an oversized frame: the stream is done; frames decoded
    // before the bad bytes are dropped with it.
    owner_.on_stream_failed(err.kind == decode_error_kind::oversized_frame
                                ? stream_failure::oversized_frame
                                : stream_failure::bad_frame,
                            err.text);
    return;
  }
  pump();
}

void frame_stream::wait_for_tokens(std::uint64_t ns) {
  reader_ = reader::throttled;
  throttle_timer_.expires_after(std::chrono::nanoseconds(ns));
  throttle_timer_.async_wait([this, keep = owner_.keep_alive()](std::error_code) {
    // Expired, or cancelled by a new rate or a close: look again.
    reader_ = reader::idle;
    pump();
  });
}

void frame_stream::pause() {
  paused_ = true;
}

void frame_stream::resume() {
  if (!paused_)
    return;
  paused_ = false;
  pump();
}

void frame_stream::throttle(std::uint64_t bytes_per_s) {
  auto before = throttle_.rate();
  throttle_.set_rate(bytes_per_s, steady_now());
  if (throttle_.rate() == before)
    return;
  if (reader_ == reader::throttled)
    throttle_timer_.cancel(); // its handler looks again
  else
    pump();
}

// -- writing ------------------------------------------------------------------

void frame_stream::write(std::string bytes) {
  if (mode_ == mode::closed)
    return;
  out_bytes_ += bytes.size();
  most_held_ = std::max(most_held_, out_bytes_ + decoder_.buffered());
  // Small frames behind the one being written share one buffer: a queue of
  // tiny answers costs its bytes, not a string each (and one write call).
  if (out_.size() > 1 && out_.back().size() + bytes.size() <= coalesce_bytes)
    out_.back() += bytes;
  else
    out_.push_back(std::move(bytes));
  if (!writing_)
    do_write();
}

void frame_stream::do_write() {
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [this, keep = owner_.keep_alive()](
                        std::error_code ec, std::size_t n) { on_written(ec, n); });
}

void frame_stream::on_written(std::error_code ec, std::size_t n) {
  writing_ = false;
  bytes_out_ += n;
  if (mode_ == mode::closed)
    return;
  if (ec) {
    owner_.on_stream_failed(stream_failure::io_error, ec.message());
    return;
  }
  out_bytes_ -= out_.front().size();
  out_.pop_front();
  if (!out_.empty()) {
    do_write();
  } else if (mode_ == mode::flushing) {
    std::error_code ignore;
    socket_.shutdown(tcp::socket::shutdown_send, ignore);
    owner_.on_flushed();
    return;
  }
  pump(); // reading may have stopped at the high-water mark
}

void frame_stream::close_after_flush() {
  if (mode_ != mode::open)
    return;
  mode_ = mode::flushing;
  throttle_timer_.cancel();
  if (!writing_ && out_.empty())
    owner_.on_flushed();
}

void frame_stream::close() {
  if (mode_ == mode::closed)
    return;
  mode_ = mode::closed;
  throttle_timer_.cancel();
  std::error_code ignore;
  socket_.close(ignore);
  // Give the memory back, not just the contents: a peer that made us queue
  // megabytes must not leave them held by a connection that is gone.
  std::vector<frame>{}.swap(frames_);
  next_frame_ = 0;
  out_.clear();
  out_.shrink_to_fit();
  out_bytes_ = 0;
  decoder_ = frame_decoder{decoder_.max_frame_size()};
  if (most_held_ >= trim_after_bytes)
    give_memory_back();
}

frame_stream::traffic frame_stream::take_traffic() {
  traffic t{bytes_in_, bytes_out_};
  bytes_in_ = 0;
  bytes_out_ = 0;
  return t;
}

} // namespace rcmgr::net
