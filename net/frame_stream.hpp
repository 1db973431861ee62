// The frame layer of a connection: the socket, the read loop and its
// decoder, the write queue, flush-then-close, the high-water rule and the
// read throttle. It knows nothing of verdicts or of the lifecycle; it hands
// each decoded frame to its owner (the connection) when the owner takes one.
//
// Reading happens only while every decoded frame has been handed on, so at
// most one read's worth of frames waits here. Frames are handed on, and the
// socket is read, only while
//   - the owner takes frames (it is not waiting for a verdict),
//   - the stream is not paused (the socket watcher's order),
//   - at most `write_high_water` bytes wait to be written: a peer that does
//     not read its answers stops being read, so what waits for it stays
//     under the mark plus the answer to one frame,
//   - the read throttle holds enough bytes (when one is set).
// Everything lives on the io thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "net/frame_codec.hpp"
#include "net/read_throttle.hpp"

namespace rcmgr::net {

/// Why a stream stopped on its own.
enum class stream_failure : std::uint8_t {
  eof,             // the remote closed its side
  io_error,        // a read or write failed
  bad_frame,       // the decoder refused the input
  oversized_frame, // a frame announced more than the maximum
};

class frame_stream {
public:
  using tcp = asio::ip::tcp;
  using executor_type = asio::io_context::executor_type;

  /// The layer above: the connection.
  class owner {
  public:
    /// Keeps the owner (and so this stream) alive while an operation is out.
    virtual std::shared_ptr<void> keep_alive() = 0;
    /// False while the owner cannot take a frame now.
    virtual bool taking_frames() const = 0;
    virtual void on_frame(frame& f) = 0;
    /// Reading or writing stopped for good; the stream is still open.
    virtual void on_stream_failed(stream_failure why, const std::string& text) = 0;
    /// close_after_flush(): everything is written; the owner closes now.
    virtual void on_flushed() = 0;

  protected:
    ~owner() = default;
  };

  /// An accepted socket.
  frame_stream(owner& o, tcp::socket sock, std::size_t max_frame_size,
               std::size_t write_high_water);
  /// A socket still to be connected (outbound).
  frame_stream(owner& o, const executor_type& exec, std::size_t max_frame_size,
               std::size_t write_high_water);

  frame_stream(const frame_stream&) = delete;
  frame_stream& operator=(const frame_stream&) = delete;

  tcp::socket& socket() { return socket_; }

  /// Starts the read loop (once the connection expects frames).
  void start_reading();
  /// Hands waiting frames to the owner while it takes them, then reads when
  /// the rules above allow. Call it whenever one of them may have changed.
  void pump();

  /// Queues `bytes` (whole frames) for writing.
  void write(std::string bytes);
  /// Stops reading; once the queue is written, shuts the sending side down
  /// and calls the owner's on_flushed().
  void close_after_flush();
  /// Closes the socket, drops what waits in either direction and gives the
  /// memory of both queues back (to the system too, after a stream that
  /// held a megabyte or more). Idempotent.
  void close();
  bool open() const { return mode_ == mode::open; }

  void pause();
  void resume();
  /// Reads at most `bytes_per_s` (0 lifts the limit).
  void throttle(std::uint64_t bytes_per_s);

  /// Bytes waiting to be written.
  std::size_t queued_bytes() const { return out_bytes_; }
  /// True while reading is held by the high-water rule.
  bool above_high_water() const { return out_bytes_ > high_water_; }

  /// Bytes moved since the last call.
  struct traffic {
    std::uint64_t in = 0;
    std::uint64_t out = 0;
  };
  traffic take_traffic();
  bool moved_bytes() const { return bytes_in_ + bytes_out_ > 0; }

private:
  enum class mode : std::uint8_t { open, flushing, closed };
  enum class reader : std::uint8_t {
    stopped,   // start_reading() not called yet
    idle,      // no read outstanding
    reading,   // an async read is outstanding
    throttled, // waiting on the throttle timer
  };

  bool may_deliver() const;
  void read_some(std::size_t max_read);
  void on_read(std::error_code ec, std::size_t n);
  void do_write();
  void on_written(std::error_code ec, std::size_t n);
  void wait_for_tokens(std::uint64_t ns);

  owner& owner_;
  tcp::socket socket_;
  mode mode_ = mode::open;
  reader reader_ = reader::stopped;
  bool paused_ = false;
  bool writing_ = false;
  std::size_t high_water_;

  frame_decoder decoder_;
  std::vector<frame> frames_; // decoded by the last read
  std::size_t next_frame_ = 0;
  std::deque<std::string> out_;
  std::size_t out_bytes_ = 0;
  std::size_t most_held_ = 0; // the most queued and buffered at once
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;

  read_throttle throttle_;
  asio::steady_timer throttle_timer_;

  // Not zeroed: only the bytes a read returns are looked at, and zeroing
  // 16 KiB per accepted connection showed in the accept profile.
  std::array<char, 16384> buf_;
};

} // namespace rcmgr::net
