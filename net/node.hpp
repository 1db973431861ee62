// A P2P node's transport: TCP on standalone Asio, every connection and every
// protocol message passed through the resource actors (DESIGN §3, §5).
//
//   caf::actor_system sys{cfg};
//   rcmgr::runtime rt{sys, config};
//   auto& h = rt.handles();
//   rcmgr::net::node n{sys, {h.gate, h.rate_limiter, h.watcher}, {"my-peer-id"}};
//   n.handle("/echo/1", [](auto&, const std::string& body) { return body; });
//   auto port = n.listen("127.0.0.1", 0);           // 0: an ephemeral port
//   auto r = n.connect("127.0.0.1", 4001).get();    // dial_result
//   if (r.ok) n.send(r.conn, "/echo/1", "hi");
//   n.shutdown();                                   // also done by ~node()
//
// Logging: the node writes its few log lines (a handler that threw, an
// accept error) through node_options::log, on the io thread; by default a
// bounded asynchronous log to stderr (net/log.hpp).
//
// Threads: one io thread runs the io_context. Actors post work into Asio
// (through a loop handle that refuses posts once the node shuts down); Asio
// handlers reach actors only by messages, through one bridge actor whose
// replies are posted back. The acceptor pool and the connector pool are kept
// apart: a dial never hands out an incoming connection.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "net/connection.hpp"

namespace rcmgr::net {

class node {
public:
  node(caf::actor_system& sys, node_actors actors, node_options opts);
  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  const peer_id& peer() const;

  // -- set up before the first listen() or connect() (std::logic_error after) --

  /// Serves `protocol` on inbound connections.
  void handle(const protocol_id& protocol, protocol_handler handler);
  /// DATA received on outbound connections (answers to what this node sent).
  void on_response(response_handler handler);
  /// REJECT frames the protocol expects on open connections: the refusal
  /// of a DATA frame this node sent, or a client's refusal of its connection
  /// (see reject_handler). Any other REJECT closes its connection and is
  /// counted as `unsolicited_reject`.
  void on_reject(reject_handler handler);

  // -- serving (thread-safe; never call the blocking ones from a handler) ----

  /// Binds and listens; returns the bound port (useful with port 0). Throws
  /// std::system_error when the address cannot be bound. Blocks until bound.
  std::uint16_t listen(const std::string& host, std::uint16_t port);

  /// Dials a new connection; `done` runs on the io thread with the outcome.
  void connect(const std::string& host, std::uint16_t port, dial_callback done);
  std::future<dial_result> connect(const std::string& host, std::uint16_t port);

  /// The connector pool: an established outbound connection to host:port
  /// when there is one (reused), else a new dial.
  void get_or_connect(const std::string& host, std::uint16_t port, dial_callback done);
  std::future<dial_result> get_or_connect(const std::string& host, std::uint16_t port);

  /// Sends DATA on an established connection (dropped when it is not).
  void send(connection_id conn, const protocol_id& protocol, std::string body);
  /// Flow control: stop reading a connection's frames, and start again.
  void pause(connection_id conn);
  void resume(connection_id conn);
  /// Closes a connection (connection_closed goes to the gate).
  void close(connection_id conn, const std::string& reason);
  /// Bytes queued on a connection, not yet written (0 for an unknown one):
  /// what the connector looks at to tell a busy connection from an idle one.
  std::future<std::size_t> queued_bytes(connection_id conn);

  /// Lifecycle batches sent to the gate so far, and the events in them.
  std::pair<std::uint64_t, std::uint64_t> gate_batches() const;

  /// The handle the socket watcher drives (pause, resume, close by id).
  net_control control() const;

  /// Closes every listener and connection, reports the closes, joins the io
  /// thread. Idempotent; never blocks on an actor.
  void shutdown();

private:
  struct impl;
  std::unique_ptr<impl> d_;
};

} // namespace rcmgr::net
