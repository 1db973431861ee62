// One TCP connection of a node: its lifecycle, as one state machine.
//
// The connection is the top of a stack of layers, each in its own file:
//   dialer          connect, retries and backoff (outbound only)
//   frame_stream    the socket, the read loop and decoder, the write queue,
//                   flush-then-close, the high-water rule, the read throttle
//   verdict_client  the asks to the gate and the rate limiter, with deadlines
// and decides alone what happens next in the lifecycle:
//
// Inbound:  accept -> pending_inbound (deny: REJECT, then close)
//           -> HELLO within the handshake timeout -> established_inbound
//           -> allow: HELLO back | deny: REJECT, then close.
// Outbound: pending_outbound (deny: fail the dial) -> TCP connect with
//           retries and backoff (all failed: dial_failure) -> HELLO out
//           -> HELLO in within the handshake timeout -> established_outbound
//           -> allow: established | deny: REJECT, then close.
//           A REJECT instead of HELLO: the remote refused us.
// Established: DATA -> rate limiter -> allow: handler | deny: REJECT, the
//           connection stays open. Any close of a connection the gate counts
//           sends connection_closed to the gate exactly once.
// REJECTs the protocol expects once established: on an outbound connection,
//           one per DATA frame this node sent (a rate-limit refusal); on an
//           inbound one, only as the client's first frame after its HELLO
//           (its own gate refused the connection: the node closes it). Any
//           other REJECT is a violation (`unsolicited_reject`): counted, and
//           the connection is closed.
//
// A connection lives on the node's io thread (one thread runs the
// io_context, so its handlers never overlap and need no strand). Public
// member functions may be called from any thread: they post to it. Users go
// through `node` (net/node.hpp), which owns the connections.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "net/dialer.hpp"
#include "net/frame_stream.hpp"
#include "net/node_context.hpp"
#include "net/verdict_client.hpp"

namespace rcmgr::net {

class connection : public std::enable_shared_from_this<connection>,
                   private frame_stream::owner,
                   private verdict_client::owner {
public:
  using tcp = asio::ip::tcp;
  using executor_type = asio::io_context::executor_type;

  /// An accepted socket; `sock` must have been accepted onto `exec`.
  connection(std::shared_ptr<const node_context> ctx, connection_id id,
             executor_type exec, tcp::socket sock);

  /// An outbound connection to `host:port` (not yet dialled).
  connection(std::shared_ptr<const node_context> ctx, connection_id id,
             executor_type exec, std::string host, std::string port,
             dial_callback on_dial);

  ~connection();

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  connection_id id() const { return id_; }
  direction dir() const { return dir_; }
  /// Bytes waiting to be written (io thread only).
  std::size_t queued_bytes() const { return stream_.queued_bytes(); }

  // -- thread-safe: each posts to the io thread -------------------------------

  /// Starts the lifecycle (asks the gate first).
  void start();
  /// Sends DATA once established; dropped otherwise.
  void send(protocol_id protocol, std::string body);
  /// Stops reading (and delivering) frames; resume() starts again.
  void pause();
  void resume();
  /// Reads at most `bytes_per_s` from the socket (a token bucket with a
  /// burst of 50 ms of the rate); 0 lifts the limit. Independent of pause.
  void throttle(std::uint64_t bytes_per_s);
  /// Closes at once; sends connection_closed when the gate counts it.
  void close(std::string reason);
  /// Hands the bytes moved since the last call to `sink` (on the io thread)
  /// once the connection is established and watched, when there were any.
  /// Bytes moved before are handed on with the first collection after.
  void collect_traffic(std::function<void(const traffic_sample&)> sink);
  /// After the io thread stopped: a connection whose verdict never came
  /// back reports its close (when the gate may have counted it). Returns its
  /// final traffic when it is watched (the node reports it, then unwatches).
  /// Not thread-safe; only for node::shutdown().
  std::optional<traffic_sample> abandon();

private:
  enum class state : std::uint8_t {
    asking_pending,      // pending_* asked; the gate counts it once it allows
    dialing,             // counted as pending outbound; TCP connect under way
    handshaking,         // counted as pending; waiting for the remote's HELLO
    asking_established,  // counted as pending; established_* asked
    established,         // counted as established, and watched
    refusing,            // refused, counted no more: REJECT, flush, close
    closing_established, // closed; report the close, then unwatch
    closing_counted,     // closed; the gate may count it: report the close
    closing,             // closed; the gate counts nothing
    finished,            // handed back to the node
  };

  // frame_stream::owner
  std::shared_ptr<void> keep_alive() override { return shared_from_this(); }
  bool taking_frames() const override;
  void on_frame(frame& f) override;
  void on_stream_failed(stream_failure why, const std::string& text) override;
  void on_flushed() override;
  // verdict_client::owner
  void on_verdict(verdict_client::topic t, caf::expected<verdict> v) override;

  template <class Event> void ask_gate(Event ev, verdict_client::topic t);
  template <class Event> void tell_gate(Event ev);
  void report_anomaly(anomaly kind);
  void report_violation(const std::string& kind);
  void log(log_level level, const std::string& text);

  void on_pending_verdict(caf::expected<verdict> v);
  void dial();
  void on_dialed(const std::string& error);
  void begin_handshake();
  void on_handshake_frame(frame& f);
  void on_established_verdict(caf::expected<verdict> v);
  void establish();
  void on_established_frame(frame& f);
  void on_reject_frame(const frame& f);
  void on_message_verdict(caf::expected<verdict> v);
  void deliver(const frame& f);
  void send_reject(const denial& why);
  /// Counted, then closed (bad frames, timeouts, unexpected frames).
  void violation(const std::string& kind, const std::string& text);

  /// Closes; what the gate is told follows from the state.
  void do_close(std::string reason);
  void enter_closing(state next, std::string reason);
  /// Once closing and no verdict is out: connection_closed, unwatch, the
  /// dial callback, removal from the node.
  void finish();
  void finish_dial(dial_result r);
  /// Hands the final traffic (and the unwatch, when watched) to the node.
  void hand_over(bool watched);
  void watch();

  std::shared_ptr<const node_context> ctx_;
  connection_id id_;
  direction dir_;
  state state_ = state::asking_pending;
  executor_type exec_;
  frame_stream stream_;
  verdict_client verdicts_;
  asio::steady_timer handshake_timer_;
  std::unique_ptr<dialer> dialer_; // outbound only
  dial_callback on_dial_;

  std::string local_;
  std::string remote_;
  peer_id peer_;
  std::string close_reason_;
  frame in_flight_; // the DATA frame waiting for its rate verdict
  /// REJECTs the protocol still allows (see the header comment).
  std::uint64_t rejects_expected_ = 0;
};

/// "host:port" ("[v6]:port" for IPv6).
std::string to_string(const asio::ip::tcp::endpoint& ep);

} // namespace rcmgr::net
