// peer-node: a node that runs the resource actors and the Asio transport.
//
//   peer-node --listen=127.0.0.1:4001 --peer-id=A --admin-port=8081 --inspect-port=9001
//   peer-node --peer-id=B --connect=127.0.0.1:4001 --connections=5 --send=8
//   --exit-when-done
//   peer-node --bind=0.0.0.0 --inspect-port=9001 --control-port=9002
//     --tls-cert=node.pem --tls-key=node.key --tls-ca=readers.pem --control-ca=ops.pem
//
// The inspect port publishes the state dump alone (read-only); the control
// port publishes the admin actor (dump, config updates, bypass changes).
// With --tls-cert/--tls-key/--tls-ca both are TLS and every client must
// present a certificate: one chaining to --tls-ca for the inspect port and
// the admin HTTP port (then HTTPS), to --control-ca for the control port.
// Serving any of them on an address other than loopback without TLS is
// refused (exit 2) unless --insecure-remote is given (docs/fleet.md).
//
// Flags go through CAF's config options (`--help` lists them). Built-in
// protocols: /echo/1 answers each DATA frame with the same body; /chat/1
// prints it. Every listener binds to loopback unless told otherwise.
// SIGINT/SIGTERM print the final state dump and shut down cleanly.
//
// What happens on the io thread (a REJECT, a /chat/1 line, the node's own
// log) is printed through a bounded asynchronous log: a stdout nobody
// drains can stall that log, never a connection (lines beyond its queue
// are dropped and counted).
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/control/admin_actor.hpp"
#include "actors/control/inspect_actor.hpp"
#include "actors/runtime.hpp"
#include "admin_http.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"
#include "messages/type_registry.hpp"
#include "net/node.hpp"
#include "tools/common/tls_files.hpp"

using namespace rcmgr;

namespace {

/// Used when no --config is given: generous limits, rate limits on /echo/1
/// and on /chat/1 (whose every line is printed).
constexpr const char* default_config = R"({
  "connection_limits": {"max_pending_inbound": 64, "max_pending_outbound": 64,
    "max_established_inbound": 256, "max_established_outbound": 256,
    "max_established_per_peer": 8, "max_established_total": 512},
  "memory": {"max_fraction": 0.9, "sample_interval_ms": 100},
  "rate_limits": {"/echo/1": {"per_peer": {"rate_per_s": 100, "burst": 200}},
    "/chat/1": {"per_peer": {"rate_per_s": 10, "burst": 20}}},
  "watcher": {"refresh_interval_ms": 1000, "idle_timeout_ms": 60000}
})";

struct peer_node_config : caf::actor_system_config {
  std::string listen;
  std::vector<std::string> connect;
  std::string peer = "peer-node";
  std::string config_file;
  std::string bind_host = "127.0.0.1";
  std::uint16_t admin_port = 0;
  std::uint16_t inspect_port = 0;
  std::uint16_t control_port = 0;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string control_ca;
  bool insecure_remote = false;
  std::size_t connections = 1;
  std::size_t send = 0;
  bool exit_when_done = false;
  std::string ready_file;
  std::size_t handshake_timeout_ms = 5000;
  std::string when_unreachable = "closed";
  std::string trace_file; // docs/trace.md

  peer_node_config() {
    opt_group{custom_options_, "global"}
        .add(listen, "listen",
             "HOST:PORT to accept connections on (port 0: any free port)")
        .add(connect, "connect", "HOST:PORT to dial; repeatable")
        .add(peer, "peer-id", "this node's peer id")
        .add(config_file, "config", "the resource config (JSON, DESIGN §5)")
        .add(bind_host, "bind",
             "host of the admin, inspect and control listeners (default loopback)")
        .add(admin_port, "admin-port",
             "serve GET /state, /metrics, /config on this port (HTTPS with --tls-*)")
        .add(inspect_port, "inspect-port",
             "publish the state dump, read-only (CAF middleman), here")
        .add(control_port, "control-port",
             "publish the admin actor (dump, config updates, bypass changes) here")
        .add(tls_cert, "tls-cert", "this node's certificate (PEM): TLS on every endpoint")
        .add(tls_key, "tls-key", "the private key of --tls-cert (PEM)")
        .add(tls_ca, "tls-ca",
             "CA (PEM) that inspect and HTTP clients' certificates must chain to")
        .add(control_ca, "control-ca",
             "CA (PEM) that control clients' certificates must chain to "
             "(default: --tls-ca)")
        .add(insecure_remote, "insecure-remote",
             "allow endpoints without TLS on an address other than loopback")
        .add(connections, "connections", "connections to open to each --connect target")
        .add(when_unreachable, "when-unreachable",
             "closed (refuse) or open (go on uncounted) when the gate or the rate "
             "limiter gives no verdict")
        .add(send, "send", "/echo/1 messages to send on each established connection")
        .add(exit_when_done, "exit-when-done", "exit once every message was answered")
        .add(ready_file, "ready-file", "write the bound ports here once serving")
        .add(handshake_timeout_ms, "handshake-timeout-ms", "HELLO deadline for clients")
        .add(trace_file, "trace", "write the decision trace (NDJSON) to this file");
  }
};

struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

std::optional<host_port> parse_host_port(const std::string& s, bool allow_zero) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return std::nullopt;
  auto digits = s.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto port = std::stoul(digits);
  if (port > 65535 || (port == 0 && !allow_zero))
    return std::nullopt;
  return host_port{s.substr(0, colon), static_cast<std::uint16_t>(port)};
}

/// CAF reads a list option as one value: fold repeated --connect=X flags
/// into --connect=["X","Y"] so the flag is repeatable.
std::vector<std::string> fold_connect_flags(int argc, char** argv) {
  std::vector<std::string> out;
  std::vector<std::string> targets;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--connect=", 0) == 0 && arg.size() > 10 && arg[10] != '[')
      targets.push_back(arg.substr(10));
    else
      out.push_back(arg);
  }
  if (!targets.empty()) {
    std::string list = "--connect=[";
    for (std::size_t i = 0; i < targets.size(); ++i)
      list += (i ? ",\"" : "\"") + targets[i] + "\"";
    out.push_back(list + "]");
  }
  return out;
}

/// Writes one whole line to stdout, from the main thread (the io thread
/// prints through the asynchronous log). One write per line: lines from the
/// log's thread never interleave with it.
void print_line(const std::string& line) {
  auto text = line + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

/// The log's sink: io-thread lines to stdout as they are (the demo and its
/// smoke test read them back), warnings and errors of the node to stderr.
void write_log_line(net::log_level level, const std::string& line) {
  if (level == net::log_level::info) {
    print_line(line);
    return;
  }
  auto text = "peer-node [" + std::string{net::to_string(level)} + "] " + line + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
}

int fail(const std::string& why) {
  std::cerr << "peer-node: " << why << "\n";
  return 2;
}

/// True for an address only this machine reaches: 127.0.0.0/8, ::1, localhost.
bool is_loopback(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

/// The control endpoint's own actor system: CAF's openssl manager takes one
/// CA per actor system, and this endpoint trusts --control-ca instead of
/// --tls-ca (see spawn_admin_bridge).
struct control_endpoint_config : caf::actor_system_config {
  control_endpoint_config(const peer_node_config& node, bool tls) {
    load<caf::io::middleman>();
    if (tls) {
      load<caf::openssl::manager>();
      openssl_certificate = node.tls_cert;
      openssl_key = node.tls_key;
      openssl_cafile = node.control_ca;
    }
    rcmgr::add_message_types(*this);
    set("logger.verbosity", caf::atom("quiet"));
    set("scheduler.max-threads", std::size_t{1});
    rcmgr::use_node_scheduler(*this);
  }
};

/// Publishes `handle` on its own system's middleman, through TLS or not.
template <class Handle>
caf::expected<std::uint16_t> publish_endpoint(caf::actor_system& sys,
                                              const Handle& handle, std::uint16_t port,
                                              const std::string& host, bool tls) {
  if (tls)
    return caf::openssl::publish(handle, port, host.c_str(), true);
  return sys.middleman().publish(handle, port, host.c_str(), true);
}

std::string fetch_dump(caf::actor_system& sys, const state_dump_actor& dump) {
  std::string out = "{}";
  caf::scoped_actor self{sys};
  self->request(dump, std::chrono::seconds(5), dump_atom::value)
      .receive([&](const std::string& doc) { out = doc; },
               [&](const caf::error& e) {
                 out = "{\"error\":\"" + caf::to_string(e) + "\"}";
               });
  return out;
}

/// Counts the answers to what this node sent, so --exit-when-done knows when
/// it is done. Touched on the io thread (handlers) and the main thread.
struct exchange_counter {
  std::mutex mtx;
  std::condition_variable cv;
  std::size_t answered = 0;
  void bump() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      ++answered;
    }
    cv.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, deadline, [&] { return answered >= n; });
  }
};

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  peer_node_config cfg;
  cfg.load<caf::io::middleman>();
  add_message_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  use_node_scheduler(cfg); // before parse: --work-stealing.* flags still win
  if (auto err = cfg.parse(fold_connect_flags(argc, argv)))
    return fail("bad flags: " + cfg.render(err) + " (see --help)");
  if (cfg.cli_helptext_printed)
    return 0;
  if (!cfg.remainder.empty())
    return fail("unexpected argument '" + cfg.remainder.front() + "' (see --help)");
  std::optional<host_port> listen_at;
  if (!cfg.listen.empty() && !(listen_at = parse_host_port(cfg.listen, true)))
    return fail("--listen expects HOST:PORT, got '" + cfg.listen + "'");
  std::vector<host_port> targets;
  for (auto& c : cfg.connect) {
    auto hp = parse_host_port(c, false);
    if (!hp)
      return fail("--connect expects HOST:PORT, got '" + c + "'");
    targets.push_back(*hp);
  }
  if (cfg.peer.empty() || cfg.peer.size() > net::max_peer_id)
    return fail("--peer-id must be 1 to " + std::to_string(net::max_peer_id) + " bytes");
  if (cfg.connections == 0 || cfg.connections > 10000)
    return fail("--connections must be 1 to 10000");
  std::string config_text = default_config;
  if (!cfg.config_file.empty()) {
    std::ifstream in{cfg.config_file};
    if (!in)
      return fail("cannot read --config file '" + cfg.config_file + "'");
    std::stringstream buf;
    buf << in.rdbuf();
    config_text = buf.str();
  }
  auto parsed = parse_config_text(config_text);
  if (!parsed)
    return fail("invalid config: " + parsed.error().text());
  if (cfg.when_unreachable != "closed" && cfg.when_unreachable != "open")
    return fail("--when-unreachable must be closed or open, got '" +
                cfg.when_unreachable + "'");
  bool tls = !cfg.tls_cert.empty() || !cfg.tls_key.empty() || !cfg.tls_ca.empty();
  if (!tls && !cfg.control_ca.empty())
    return fail("--control-ca needs --tls-cert, --tls-key and --tls-ca");
  if (tls) {
    if (cfg.tls_cert.empty() || cfg.tls_key.empty() || cfg.tls_ca.empty())
      return fail("TLS needs all of --tls-cert, --tls-key and --tls-ca");
    if (cfg.control_ca.empty())
      cfg.control_ca = cfg.tls_ca;
    if (auto why = tls::check_files(
            cfg.tls_cert, cfg.tls_key,
            {{"the CA file", &cfg.tls_ca}, {"the CA file", &cfg.control_ca}});
        !why.empty())
      return fail(why);
    // The node's actor system serves the inspect endpoint: its CA is --tls-ca.
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = cfg.tls_cert;
    cfg.openssl_key = cfg.tls_key;
    cfg.openssl_cafile = cfg.tls_ca;
  }
  bool serves_admin = cfg.admin_port > 0 || cfg.inspect_port > 0 || cfg.control_port > 0;
  if (serves_admin && !tls && !is_loopback(cfg.bind_host)) {
    if (!cfg.insecure_remote)
      return fail("refusing to serve the admin, inspect or control endpoint on '" +
                  cfg.bind_host +
                  "' without TLS: anyone who reaches it could read the state and "
                  "change the limits; give --tls-cert, --tls-key and --tls-ca, bind "
                  "to loopback, or accept the risk with --insecure-remote");
    std::cerr << "peer-node: WARNING: --insecure-remote: the endpoints on '"
              << cfg.bind_host
              << "' have no TLS and no authentication; whoever reaches them can read "
                 "the state"
              << (cfg.control_port > 0 ? " and change the limits" : "") << "\n";
  }

  // Outlives the node, which logs through it until it is shut down.
  net::async_log out{write_log_line};
  caf::actor_system sys{cfg};
  runtime_options rt_opts;
  rt_opts.on_fault = [&out](const std::string& part, const std::string& reason) {
    out.push(net::log_level::error, "the " + part + " actor stopped: " + reason);
  };
  rt_opts.trace_file = cfg.trace_file;
  runtime rt{sys, *parsed, rt_opts};
  auto& h = rt.handles();
  net::node_options opts;
  opts.peer = cfg.peer;
  opts.log = out.hook();
  opts.when_unreachable = cfg.when_unreachable == "open"
                              ? net::unreachable_policy::fail_open
                              : net::unreachable_policy::fail_closed;
  opts.handshake_timeout = std::chrono::milliseconds(cfg.handshake_timeout_ms);
  auto per_peer = parsed->connection_limits.max_established_per_peer;
  opts.max_connections_per_peer = per_peer >= std::numeric_limits<std::size_t>::max()
                                      ? std::numeric_limits<std::size_t>::max()
                                      : static_cast<std::size_t>(per_peer);
  net::node node{sys, net::node_actors{h.gate, h.rate_limiter, h.watcher}, opts};

  exchange_counter answers;
  node.handle("/echo/1",
              [](const peer_id&, const std::string& body) -> std::optional<std::string> {
                return body;
              });
  node.handle(
      "/chat/1",
      [&out](const peer_id& from, const std::string& body) -> std::optional<std::string> {
        out.push(net::log_level::info, "[chat] " + from + ": " + body);
        return std::nullopt;
      });
  node.on_response([&](connection_id, const peer_id&, const protocol_id&,
                       const std::string&) { answers.bump(); });
  node.on_reject([&](connection_id conn, const peer_id& from, const denial& why) {
    out.push(net::log_level::info, "REJECT from " + from + " on connection " +
                                       std::to_string(conn) + ": " +
                                       dump_text(to_json(why)));
    answers.bump();
  });

  // The limits in force, once, as one JSON line (docs/metrics.md).
  {
    std::string error;
    auto doc = fetch_effective_config(sys, h.control, h.dump, error);
    print_line(doc ? "{\"effective_config\":" + *doc + "}"
                   : "{\"effective_config\":null,\"error\":" +
                         dump_text(nlohmann::json(error)) + "}");
  }

  std::ostringstream ready;
  std::unique_ptr<admin_http> http;
  state_dump_actor inspect;
  std::unique_ptr<control_endpoint_config> control_sys_cfg;
  std::unique_ptr<caf::actor_system> control_sys;
  admin_actor control_bridge;
  try {
    if (listen_at) {
      auto port = node.listen(listen_at->host, listen_at->port);
      print_line(cfg.peer + " listening on " + listen_at->host + ":" +
                 std::to_string(port));
      ready << "listen=" << port << "\n";
    }
    if (cfg.admin_port > 0) {
      std::optional<admin_http_tls> http_tls;
      if (tls)
        http_tls = admin_http_tls{cfg.tls_cert, cfg.tls_key, cfg.tls_ca};
      http = std::make_unique<admin_http>(sys, h.dump, h.control, cfg.bind_host,
                                          cfg.admin_port, http_tls);
      print_line(cfg.peer + " serves GET /state, /metrics and /config" +
                 (tls ? " (HTTPS, client certificates)" : "") + " on " + cfg.bind_host +
                 ":" + std::to_string(http->port()));
      ready << "admin=" << http->port() << "\n";
    }
  } catch (const std::exception& e) {
    node.shutdown();
    return fail(e.what());
  }
  // Stops what the inspect and control endpoints run, before the runtime goes.
  auto stop_endpoints = [&] {
    if (inspect)
      caf::anon_send_exit(inspect, caf::exit_reason::user_shutdown);
    if (control_bridge)
      caf::anon_send_exit(control_bridge, caf::exit_reason::user_shutdown);
    control_bridge = nullptr;
    control_sys.reset(); // waits for the bridge, which may be answering
    control_sys_cfg.reset();
  };
  if (cfg.inspect_port > 0) {
    inspect = spawn_inspect(sys, h.dump);
    auto port = publish_endpoint(sys, inspect, cfg.inspect_port, cfg.bind_host, tls);
    if (!port) {
      stop_endpoints();
      node.shutdown();
      return fail("cannot publish the inspect endpoint: " + sys.render(port.error()));
    }
    print_line(cfg.peer + " publishes its state dump (read-only" + (tls ? ", TLS" : "") +
               ") on " + cfg.bind_host + ":" + std::to_string(*port));
    ready << "inspect=" << *port << "\n";
  }
  if (cfg.control_port > 0) {
    control_sys_cfg = std::make_unique<control_endpoint_config>(cfg, tls);
    control_sys = std::make_unique<caf::actor_system>(*control_sys_cfg);
    control_bridge = spawn_admin_bridge(*control_sys, sys, h.dump, h.control,
                                        std::chrono::seconds(10));
    auto port = publish_endpoint(*control_sys, control_bridge, cfg.control_port,
                                 cfg.bind_host, tls);
    if (!port) {
      auto why = control_sys->render(port.error());
      stop_endpoints();
      node.shutdown();
      return fail("cannot publish the control endpoint: " + why);
    }
    print_line(cfg.peer + " publishes its admin actor (control" + (tls ? ", TLS" : "") +
               ") on " + cfg.bind_host + ":" + std::to_string(*port));
    ready << "control=" << *port << "\n";
  }
  if (!cfg.ready_file.empty()) {
    std::ofstream out{cfg.ready_file + ".tmp"};
    out << ready.str();
    out.close();
    std::rename((cfg.ready_file + ".tmp").c_str(), cfg.ready_file.c_str());
  }

  std::size_t sent = 0;
  for (auto& t : targets) {
    for (std::size_t i = 0; i < cfg.connections; ++i) {
      auto r = node.connect(t.host, t.port).get();
      if (!r.ok) {
        print_line("connection to " + t.host + ":" + std::to_string(t.port) + " refused" +
                   (r.refused_by_remote ? " by the remote" : "") + ": " +
                   (r.refused ? dump_text(to_json(*r.refused)) : r.error));
        continue;
      }
      print_line("connected to " + r.peer + " (connection " + std::to_string(r.conn) +
                 ")");
      for (std::size_t k = 0; k < cfg.send; ++k, ++sent)
        node.send(r.conn, "/echo/1", "hello " + std::to_string(k));
    }
  }

  if (cfg.exit_when_done) {
    if (!answers.wait_for(sent, std::chrono::seconds(10)))
      print_line("not every message was answered within 10 s");
  } else {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    print_line(cfg.peer + " stopping on signal " + std::to_string(sig));
  }
  out.flush(); // what the io thread logged comes before the final state
  print_line(cfg.peer + " final state: " + fetch_dump(sys, h.dump));

  if (http)
    http->stop();
  stop_endpoints();
  node.shutdown();
  rt.shutdown();
  return 0;
}
