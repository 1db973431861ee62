// One TCP connection of a node: the handshake, the frames, the verdicts.
//
// A connection lives on the node's io thread; every member below is touched
// only there. Public member functions may be called from any thread: they
// post to the io thread. One thread runs the io_context, so there is no
// strand: a strand per connection cost a lock and an extra hop per handler
// (session 6: the accept benchmark's floor node, 0.62 -> 0.66 of bare Asio
// on average over 7 runs). Users normally go through `node` (net/node.hpp),
// which owns the connections; this header is the node's building block.
//
// Inbound:  accept -> pending_inbound (deny: close at once, nothing sent)
//           -> HELLO within the handshake timeout -> established_inbound
//           -> allow: HELLO back | deny: REJECT, then close.
// Outbound: pending_outbound (deny: fail the dial) -> TCP connect with
//           retries and backoff (all failed: dial_failure) -> HELLO out
//           -> HELLO in within the handshake timeout -> established_outbound
//           -> allow: established | deny: REJECT, then close.
//           A REJECT instead of HELLO: the remote refused us.
// Established: DATA -> rate limiter -> allow: handler | deny: REJECT, the
//           connection stays open. Any close of an admitted connection sends
//           connection_closed to the gate exactly once.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "messages/interfaces.hpp"
#include "net/actor_bridge.hpp"
#include "net/frame_codec.hpp"
#include "net/gate_channel.hpp"

namespace rcmgr::net {

struct node_options {
  /// This node's peer id, sent in every HELLO. Must not be empty.
  peer_id peer = "node";
  /// A client must send HELLO within this time after its connection is admitted.
  std::chrono::milliseconds handshake_timeout{5000};
  /// The largest length a frame may announce (type byte + payload).
  std::size_t max_frame_size = default_max_frame_size;
  /// How long the node waits for a verdict from an actor.
  std::chrono::milliseconds verdict_timeout{5000};
  /// TCP connect attempts per dial, and the pause before the second one
  /// (doubled before each further attempt).
  int dial_attempts = 3;
  std::chrono::milliseconds dial_backoff{100};
  /// Reading stops while more than this many bytes wait to be written (a
  /// peer that does not read its answers cannot grow our memory).
  std::size_t write_high_water = 4 * default_max_frame_size;
  /// The first connection id this node hands out. Ids must be unique per
  /// gate: give nodes that share one runtime disjoint ranges.
  connection_id first_connection_id = 1;
  /// How often traffic is reported to the watcher (at most every 100 ms).
  std::chrono::milliseconds traffic_interval{100};
  /// get_or_connect() keeps at most this many outbound connections (live or
  /// being dialled) per address; give it the config's
  /// `max_established_per_peer`.
  std::size_t max_connections_per_peer = 8;
};

/// The resource actors a node talks to. `watcher` may be left unset.
struct node_actors {
  gate_actor gate;
  rate_limiter_actor rate_limiter;
  socket_watcher_actor watcher;
};

/// Serves one protocol on inbound connections: the body of each admitted
/// DATA frame; a returned body is sent back as DATA on the same protocol.
using protocol_handler = std::function<std::optional<std::string>(
    const peer_id& from, const std::string& body)>;

/// DATA received on an outbound connection (the answers to what we sent).
using response_handler =
    std::function<void(connection_id conn, const peer_id& from,
                       const protocol_id& protocol, const std::string& body)>;

/// A REJECT frame received from the other side on an open connection.
using reject_handler =
    std::function<void(connection_id conn, const peer_id& from, const denial& why)>;

/// The outcome of a dial.
struct dial_result {
  connection_id conn = 0;
  bool ok = false;
  peer_id peer;                  // the remote's id when ok
  std::optional<denial> refused; // our gate's or the remote's refusal
  bool refused_by_remote = false;
  std::string error; // why it failed, as text
};

using dial_callback = std::function<void(const dial_result&)>;

/// What every connection of a node shares. Immutable once the node serves.
struct node_context {
  node_options opts;
  node_actors actors;
  caf::actor bridge;
  /// Every lifecycle event for the gate goes through this, in order.
  std::shared_ptr<gate_channel> to_gate;
  std::shared_ptr<loop_handle> loop;
  std::map<protocol_id, protocol_handler> handlers;
  response_handler on_response;
  reject_handler on_reject;
  /// Called on the io thread when it is established / gone.
  std::function<void(connection_id, direction, const peer_id&,
                     const std::string& address)>
      established;
  /// Gone: `last` holds the bytes since the last traffic collection; when
  /// `watched`, the node must report them, then unwatch the connection.
  std::function<void(connection_id, direction, const traffic_sample& last, bool watched)>
      removed;
};

class connection : public std::enable_shared_from_this<connection> {
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
  /// Bytes waiting to be written; read from any thread (the connector
  /// prefers a connection with nothing queued).
  std::size_t queued_bytes() const { return out_bytes_.load(std::memory_order_relaxed); }

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
  /// Closes at once; sends connection_closed when admitted.
  void close(std::string reason);
  /// Hands the bytes moved since the last call to `sink` (on the io thread),
  /// when there were any.
  void collect_traffic(std::function<void(const traffic_sample&)> sink);
  /// After the io thread stopped: a connection whose verdict never came
  /// back reports its close (when the gate may have counted it). Returns its
  /// final traffic when it is watched (the node reports it, then unwatches).
  /// Not thread-safe; only for node::shutdown().
  std::optional<traffic_sample> abandon();

private:
  enum class state : std::uint8_t {
    asking_pending,     // waiting for pending_inbound / pending_outbound
    dialing,            // TCP connect in progress
    handshaking,        // waiting for the remote's HELLO
    asking_established, // waiting for established_*
    established,
    flushing, // a REJECT is being written; close when done
    closed,
  };

  using verdict_handler = void (connection::*)(caf::expected<verdict>);
  /// Asks the gate for the verdict on `ev` (through the node's gate channel);
  /// `k` runs on the io thread, with the verdict or, after `verdict_timeout`,
  /// with `request_timeout`.
  template <class Event> void ask_gate(Event ev, verdict_handler k);
  /// Asks the rate limiter, through the bridge, the same way.
  void ask_rate_limiter(protocol_message msg, verdict_handler k);
  /// Starts ask number ++ask_seq_ (its timeout armed) and returns what
  /// carries its answer back to the io thread.
  gate_channel::reply begin_ask(verdict_handler k);
  /// Runs `k` for the answer to ask number `seq`, unless that ask is over
  /// (answered, or timed out).
  void take_verdict(std::uint64_t seq, verdict_handler k, caf::expected<verdict> v);
  /// Sends `ev` to the gate through the channel, ignoring the answer.
  template <class Event> void tell_gate(Event ev);
  void report_anomaly(anomaly kind);
  void report_violation(const std::string& kind);

  void do_start();
  void on_pending_verdict(caf::expected<verdict> v);
  void dial_attempt();
  void on_connect_failed();
  void on_connected();
  void on_established_verdict(caf::expected<verdict> v);
  void on_rate_verdict(caf::expected<verdict> v);

  void arm_handshake_timer();
  void start_read();
  /// Tops up the read bucket; false (and a wake-up armed) when it holds too
  /// little for a read yet.
  bool read_budget(std::size_t& max_read);
  void refill_read_tokens();
  void process();
  void handle(frame& f);
  void deliver(const frame& f);
  void violation(decode_error_kind kind, const std::string& text);
  void violation(const std::string& kind, const std::string& text);

  void write(std::string bytes);
  void do_write();
  /// Writes what is queued, then closes (after a REJECT).
  void close_after_flush(std::string reason);
  void do_close(std::string reason);
  /// Once closed and no verdict is outstanding: connection_closed, unwatch,
  /// the dial callback, removal from the node.
  void finish();
  void finish_dial(dial_result r);
  /// Hands the final traffic and the unwatch to the node (`removed`).
  void hand_over();
  void watch();

  std::shared_ptr<const node_context> ctx_;
  connection_id id_;
  direction dir_;
  executor_type exec_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer throttle_timer_;
  asio::steady_timer verdict_timer_;
  std::unique_ptr<tcp::resolver> resolver_;

  std::string host_; // outbound
  std::string port_;
  dial_callback on_dial_;
  int attempt_ = 0;
  std::string last_dial_error_;

  std::string local_;
  std::string remote_;
  peer_id peer_;

  state state_;
  bool admitted_ = false;     // counted by the gate: a close must be reported
  bool awaiting_ = false;     // a verdict request is outstanding
  std::uint64_t ask_seq_ = 0; // the number of the latest ask
  bool reading_ = false;      // an async read is outstanding
  bool writing_ = false;
  bool paused_ = false;
  bool finished_ = false;
  bool watched_ = false;
  std::string close_reason_;
  frame in_flight_; // the DATA frame waiting for its rate verdict

  frame_decoder decoder_;
  std::deque<frame> frames_;
  std::vector<frame> scratch_;
  // Not zeroed: only the bytes a read returns are looked at, and zeroing
  // 16 KiB per accepted connection showed in the accept profile.
  std::array<char, 16384> buf_;
  std::deque<std::string> out_;
  std::atomic<std::size_t> out_bytes_{0};
  std::uint64_t bytes_in_ = 0; // since the last traffic sample
  std::uint64_t bytes_out_ = 0;

  // The read throttle (a token bucket in bytes; rate 0 = off).
  std::uint64_t read_rate_ = 0;
  double read_tokens_ = 0;
  std::chrono::steady_clock::time_point refilled_at_;
  bool throttle_waiting_ = false; // throttle_timer_ is armed
};

/// "host:port" ("[v6]:port" for IPv6).
std::string to_string(const asio::ip::tcp::endpoint& ep);

} // namespace rcmgr::net
