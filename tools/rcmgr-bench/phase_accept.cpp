// rcmgr-bench phase: accept_ratio_vs_bare_asio.
//
// One cycle: the client connects over loopback, sends HELLO, waits for the
// server's HELLO, closes. Two servers live in this process for the whole
// phase:
//   - governed: a real rcmgr::net::node on a fresh rcmgr::runtime (gate,
//     tracker, watcher, rate limiter, sampler) in the bench's actor system;
//     every accepted socket costs pending_inbound, established_inbound and
//     connection_closed through the node's gate channel (batched per io-loop
//     turn, sent by its bridge actor);
//   - bare: a plain standalone-Asio acceptor on its own io thread that
//     accepts, reads the HELLO frame (the same frame_decoder), answers with a
//     HELLO frame and closes.
//   - echo (the floor): a second rcmgr::net::node whose gate is an actor that
//     answers every event at once and decides nothing, with no socket
//     watcher. It pays what the node and the trip through CAF cost and none
//     of the resource actors' work, as the lifecycle's echo does: the
//     governed side over this one is what the resource actors cost; this
//     one over the bare side is what the transport and CAF cost.
// The client is the same for all: Asio on the calling thread, a window of
// connections in flight (32 by default: enough that both sides are bound by
// CPU rather than by wake-up latency; with 1 in flight the figure would be
// the ratio of round-trip latencies instead), prebuilt HELLO frames. The sides run in
// interleaved rounds (each round in another order) so that noise from the
// shared machine falls on all; each side's rate is its cycles over its summed
// time. A side's time ends only when its server has finished
// every connection too: the bare server has closed each one, and the node's
// gate counts no pending or established inbound connection (every close has
// been reported). Limits are far above the window: nothing is denied. The
// governed node has "ip_limits" and "attempt_rates" set too.
#include "phases.hpp"

#ifdef RCMGR_BENCH_HAVE_NET
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "actors/runtime.hpp"
#include "net/frame_codec.hpp"
#include "net/node.hpp"

namespace rcmgr::bench {

namespace {

using tcp = asio::ip::tcp;

// -- the bare server ------------------------------------------------------------------

/// Accept, read one HELLO, answer HELLO, close: on its own io thread.
class bare_server {
public:
  bare_server() : acceptor_(io_), guard_(asio::make_work_guard(io_)) {
    tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread{[this] { io_.run(); }};
  }

  ~bare_server() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  bare_server(const bare_server&) = delete;
  bare_server& operator=(const bare_server&) = delete;

  std::uint16_t port() const { return port_; }

  /// Waits until `n` connections in all have been finished (answered and
  /// closed, or failed); false at the deadline.
  bool wait_finished(std::uint64_t n, steady::time_point deadline) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_until(lock, deadline, [&] { return finished_ + failed_ >= n; });
  }

  std::uint64_t failed() {
    std::lock_guard<std::mutex> lock{mtx_};
    return failed_;
  }

private:
  struct session : std::enable_shared_from_this<session> {
    bare_server* server;
    tcp::socket sock;
    net::frame_decoder decoder;
    std::vector<net::frame> frames;
    std::string out;
    char buf[512];

    session(bare_server* s, tcp::socket so) : server(s), sock(std::move(so)) {}

    void read() {
      sock.async_read_some(asio::buffer(buf), [self = shared_from_this()](
                                                  std::error_code ec, std::size_t n) {
        if (ec)
          return self->server->done(false);
        if (self->decoder.feed(self->buf, n, self->frames))
          return self->server->done(false);
        if (self->frames.empty())
          return self->read();
        if (self->frames.front().type != net::frame_type::hello)
          return self->server->done(false);
        self->out = net::encode_hello("rcmgr-bench-bare");
        asio::async_write(self->sock, asio::buffer(self->out),
                          [self](std::error_code ec, std::size_t) {
                            std::error_code ignored;
                            self->sock.close(ignored);
                            self->server->done(!ec);
                          });
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open())
        return;
      if (!ec)
        std::make_shared<session>(this, std::move(sock))->read();
      accept();
    });
  }

  void done(bool ok) {
    {
      std::lock_guard<std::mutex> lock{mtx_};
      ++(ok ? finished_ : failed_);
    }
    cv_.notify_all();
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::uint64_t finished_ = 0;
  std::uint64_t failed_ = 0;
};

// -- the client
// ---------------------------------------------------------------------------

struct cycle_result {
  std::uint64_t completed = 0; // HELLO back, then closed
  std::uint64_t rejected = 0;  // a frame other than HELLO came back
  std::uint64_t errors = 0;    // connect, write or read failed
  bool timed_out = false;
};

/// `count` cycles against 127.0.0.1:port with `window` in flight, on a fresh
/// io_context run by the calling thread (returns when all are done or at the
/// deadline).
class cycle_client {
public:
  cycle_client(std::uint16_t port, std::uint64_t count, std::uint64_t window,
               const std::vector<std::string>& hellos, std::chrono::seconds limit)
      : ep_(asio::ip::make_address("127.0.0.1"), port), count_(count), window_(window),
        hellos_(hellos), timer_(io_, limit) {}

  cycle_result run() {
    timer_.async_wait([this](std::error_code ec) {
      if (ec)
        return; // cancelled: every cycle is done
      res_.timed_out = true;
      io_.stop();
    });
    for (std::uint64_t i = 0; i < window_ && started_ < count_; ++i)
      start_one();
    if (finished_ == count_)
      timer_.cancel();
    io_.run();
    return res_;
  }

private:
  struct conn : std::enable_shared_from_this<conn> {
    cycle_client* client;
    tcp::socket sock;
    const std::string* hello;
    net::frame_decoder decoder;
    std::vector<net::frame> frames;
    char buf[512];

    conn(cycle_client* c, asio::io_context& io, const std::string* h)
        : client(c), sock(io), hello(h) {}

    void read() {
      sock.async_read_some(asio::buffer(buf), [self = shared_from_this()](
                                                  std::error_code ec, std::size_t n) {
        if (ec)
          return self->end(&cycle_result::errors); // EOF before an answer
        if (self->decoder.feed(self->buf, n, self->frames))
          return self->end(&cycle_result::errors);
        if (self->frames.empty())
          return self->read();
        self->end(self->frames.front().type == net::frame_type::hello
                      ? &cycle_result::completed
                      : &cycle_result::rejected);
      });
    }

    void end(std::uint64_t cycle_result::*what) {
      std::error_code ignored;
      sock.close(ignored);
      client->finish(what);
    }
  };

  void start_one() {
    auto c = std::make_shared<conn>(this, io_, &hellos_[started_ % hellos_.size()]);
    ++started_;
    c->sock.async_connect(ep_, [c](std::error_code ec) {
      if (ec)
        return c->end(&cycle_result::errors);
      asio::async_write(c->sock, asio::buffer(*c->hello),
                        [c](std::error_code ec, std::size_t) {
                          if (ec)
                            return c->end(&cycle_result::errors);
                          c->read();
                        });
    });
  }

  void finish(std::uint64_t cycle_result::*what) {
    ++(res_.*what);
    ++finished_;
    if (started_ < count_)
      start_one();
    else if (finished_ == count_)
      timer_.cancel();
  }

  asio::io_context io_;
  tcp::endpoint ep_;
  std::uint64_t count_;
  std::uint64_t window_;
  const std::vector<std::string>& hellos_;
  asio::steady_timer timer_;
  std::uint64_t started_ = 0;
  std::uint64_t finished_ = 0;
  cycle_result res_;
};

// -- the two sides
// -------------------------------------------------------------------------

/// Returns once the gate counts no pending and no established inbound
/// connection; false at the deadline or when the gate does not answer.
bool wait_gate_idle(caf::scoped_actor& self, const gate_actor& gate,
                    steady::time_point deadline) {
  for (;;) {
    bool ok = false;
    admission_counts c;
    self->request(gate, caf::infinite, get_atom::value, counts_atom::value)
        .receive(
            [&](const admission_counts& x) {
              c = x;
              ok = true;
            },
            [&](caf::error& e) {
              std::cerr << "rcmgr-bench: accept: the gate did not answer: "
                        << self->system().render(e) << "\n";
            });
    if (!ok)
      return false;
    if (c.pending_inbound == 0 && c.established_inbound == 0)
      return true;
    if (steady::now() >= deadline) {
      std::cerr << "rcmgr-bench: accept: the gate still counts " << c.pending_inbound
                << " pending and " << c.established_inbound
                << " established inbound connections\n";
      return false;
    }
  }
}

/// The echo side's gate: answers each event of a node's one-way batch at
/// once (allow, ok for a close), as a node's gate channel expects
/// (docs/node.md). For the wait at the end of a run it counts the
/// connections it has seen pending and not yet closed, as pending inbound.
struct echo_gate_state {
  std::uint64_t pending = 0;
  std::uint64_t closed = 0;
  static inline const char* name = "rcmgr-bench.accept-echo";
};

caf::behavior echo_gate_impl(caf::stateful_actor<echo_gate_state>* self,
                             int /* CAF 0.17 wants an argument */) {
  return {
      [self](oneway_batch& ow) {
        auto& st = self->state;
        for (auto& e : ow.batch.events) {
          st.pending += e.kind == event_kind::pending_inbound ? 1 : 0;
          st.closed += e.kind == event_kind::connection_closed ? 1 : 0;
        }
        if (ow.reply_to)
          self->send(ow.reply_to, batch_verdicts{ow.id, echo_verdicts(ow.batch)});
      },
      [self](get_atom, counts_atom) {
        auto& st = self->state;
        admission_counts c;
        c.pending_inbound = st.pending - std::min(st.closed, st.pending);
        return c;
      },
      [](anomaly_report&) {},
  };
}

enum class side { bare, echo, governed };

const char* name_of(side s) {
  return s == side::bare ? "bare" : s == side::echo ? "echo" : "governed";
}

struct side_totals {
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  double seconds = 0;
  double cpu_seconds = 0;     // the whole process: client, server, actors
  std::uint64_t switches = 0; // context switches, the whole process
};

struct accept_rig {
  caf::scoped_actor& self;
  const std::vector<std::string>& hellos;
  std::uint64_t window;
  bare_server bare;
  std::uint64_t bare_expected = 0; // connections the bare server has answered
  runtime rt;
  net::node node;
  std::uint16_t node_port = 0;
  gate_actor echo_gate;
  net::node echo_node;
  std::uint16_t echo_port = 0;
  bool trusted = true;

  static node_config governed_config() {
    node_config cfg;
    // Explicit limits (so every check runs) far above the window.
    auto& l = cfg.connection_limits;
    l.max_pending_inbound = 1u << 20;
    l.max_established_inbound = 1u << 20;
    l.max_established_per_peer = 1u << 20;
    l.max_established_total = 1u << 20;
    // The per-IP rules of DESIGN §6.2 set, as explicit objects (no loopback
    // exemption), so every connection pays its attempt-rate and per-IP checks
    // against the client's 127.0.0.1.
    cfg.ip_limits.present = true;
    cfg.ip_limits.subnet_v4 = {{32, 1u << 20}};
    cfg.ip_limits.subnet_v6 = {{56, 1u << 20}};
    cfg.attempt_rates.present = true;
    cfg.attempt_rates.global = bucket_config{1e9, 1000000};
    cfg.attempt_rates.subnet_v4 = {{32, bucket_config{1e9, 1000000}}};
    cfg.attempt_rates.subnet_v6 = {{56, bucket_config{1e9, 1000000}}};
    return cfg;
  }

  static net::node_options governed_options() {
    net::node_options opts;
    opts.peer = "rcmgr-bench-node";
    return opts;
  }

  accept_rig(caf::scoped_actor& s, const std::vector<std::string>& h, std::uint64_t win)
      : self(s), hellos(h), window(win), rt(s->system(), governed_config()),
        node(s->system(),
             net::node_actors{rt.handles().gate, rt.handles().rate_limiter,
                              rt.handles().watcher},
             governed_options()),
        echo_gate(caf::actor_cast<gate_actor>(s->system().spawn(echo_gate_impl, 0))),
        // No watcher: the node then sends it nothing. The rate limiter sees
        // no DATA frame in a cycle.
        echo_node(s->system(), net::node_actors{echo_gate, rt.handles().rate_limiter, {}},
                  governed_options()) {
    node_port = node.listen("127.0.0.1", 0);
    echo_port = echo_node.listen("127.0.0.1", 0);
  }

  ~accept_rig() {
    echo_node.shutdown(); // before its gate goes
    caf::anon_send_exit(echo_gate, caf::exit_reason::user_shutdown);
  }

  accept_rig(const accept_rig&) = delete;
  accept_rig& operator=(const accept_rig&) = delete;

  /// One batch of `n` cycles against one side, timed until its server has
  /// finished every connection.
  void run(side which, std::uint64_t n, side_totals* totals) {
    auto t0 = steady::now();
    auto cpu0 = cpu_seconds();
    auto switches0 = context_switches();
    auto port = which == side::bare   ? bare.port()
                : which == side::echo ? echo_port
                                      : node_port;
    cycle_client client{port, n, window, hellos, wait_limit};
    auto res = client.run();
    auto deadline = steady::now() + wait_limit;
    bool drained = false;
    if (which != side::bare) {
      drained = wait_gate_idle(self, which == side::echo ? echo_gate : rt.handles().gate,
                               deadline);
    } else {
      // Each answered connection (a failed one may never have been accepted).
      bare_expected += res.completed + res.rejected;
      drained = bare.wait_finished(bare_expected, deadline);
      if (!drained)
        std::cerr << "rcmgr-bench: accept: the bare server did not finish\n";
    }
    auto secs = seconds_since(t0);
    auto cpu = cpu_seconds() - cpu0;
    auto switches = context_switches() - switches0;
    if (res.timed_out)
      std::cerr << "rcmgr-bench: accept: a client timed out\n";
    if (res.errors || res.rejected)
      std::cerr << "rcmgr-bench: accept (" << name_of(which) << "): " << res.errors
                << " failed cycles, " << res.rejected << " refused\n";
    if (res.timed_out || !drained)
      trusted = false;
    if (totals) {
      totals->completed += res.completed;
      totals->failed += res.errors + res.rejected;
      totals->seconds += secs;
      totals->cpu_seconds += cpu;
      totals->switches += switches;
    }
  }
};

} // namespace

void bench_accept(caf::scoped_actor& self, const sizes& z, const workload& w,
                  results& r) {
  auto rounds = static_cast<std::uint64_t>(std::max(z.accept_rounds, 1));
  auto per_round = std::max<std::uint64_t>(z.accept_cycles / rounds, 1);
  progress("accept: " + std::to_string(per_round * rounds) +
           " connect + HELLO + close cycles a side over loopback, " +
           std::to_string(z.accept_window) + " in flight, " + std::to_string(rounds) +
           " interleaved rounds");
  std::vector<std::string> hellos;
  for (connection_id i = 0; i < std::min<std::size_t>(w.peers.size(), 1024); ++i)
    hellos.push_back(net::encode_hello(w.peer(i)));
  std::unique_ptr<accept_rig> g;
  try {
    g = std::make_unique<accept_rig>(self, hellos, z.accept_window);
  } catch (const std::exception& e) {
    std::cerr << "rcmgr-bench: accept: cannot listen: " << e.what() << "\n";
    for (auto k : accept_keys)
      r.miss(k, std::string{"cannot listen: "} + e.what());
    return;
  }
  // Warm-up, untimed: connection pools, allocator arenas, the gate's tables.
  auto warm = std::max<std::uint64_t>(per_round / 10, 2 * z.accept_window);
  for (auto s : {side::bare, side::echo, side::governed})
    g->run(s, warm, nullptr);
  side_totals totals[3];
  constexpr side order[3] = {side::bare, side::echo, side::governed};
  for (std::uint64_t k = 0; k < rounds; ++k)
    for (std::uint64_t i = 0; i < 3; ++i) { // round k starts with side k mod 3
      auto s = order[(k + i) % 3];
      g->run(s, per_round, &totals[static_cast<int>(s)]);
    }
  auto trusted = g->trusted;
  auto [batches, events] = g->node.gate_batches();
  g.reset(); // the nodes shut down, then the runtime
  if (!trusted)
    std::cerr << "rcmgr-bench: accept: a side gave up; the figures are not trusted\n";
  for (auto& t : totals)
    if (t.completed == 0 || t.seconds <= 0) {
      for (auto k : accept_keys)
        r.miss(k, "no cycle completed on one side");
      return;
    }
  auto& bare = totals[static_cast<int>(side::bare)];
  auto& echo = totals[static_cast<int>(side::echo)];
  auto& governed = totals[static_cast<int>(side::governed)];
  auto rate = [](const side_totals& t) {
    return static_cast<double>(t.completed) / t.seconds;
  };
  r.set("bare_accept_cycles_per_s", rate(bare));
  r.set("echo_accept_cycles_per_s", rate(echo));
  r.set("accept_cycles_per_s", rate(governed));
  r.set("accept_ratio_vs_bare_asio", rate(governed) / rate(bare));
  // The split of the gap: the transport and CAF (echo over bare), and the
  // resource actors' work (governed over echo).
  r.set("echo_accept_ratio_vs_bare_asio", rate(echo) / rate(bare));
  r.set("accept_vs_echo_ratio", rate(governed) / rate(echo));
  if (batches > 0) // warm-up included
    r.set("accept_gate_events_per_batch",
          static_cast<double>(events) / static_cast<double>(batches));
  // Process CPU per cycle (client included, the same client on every side):
  // how much of the gap is work rather than waiting.
  auto per_cycle = [](double x, const side_totals& t) {
    return x / static_cast<double>(t.completed);
  };
  r.set("bare_accept_cpu_us_per_cycle", per_cycle(1e6 * bare.cpu_seconds, bare));
  r.set("echo_accept_cpu_us_per_cycle", per_cycle(1e6 * echo.cpu_seconds, echo));
  r.set("accept_cpu_us_per_cycle", per_cycle(1e6 * governed.cpu_seconds, governed));
  // Context switches per cycle: each time a thread waits for another (the
  // io thread for a verdict, a CAF worker for a message) is a switch.
  r.set("bare_accept_switches_per_cycle",
        per_cycle(static_cast<double>(bare.switches), bare));
  r.set("echo_accept_switches_per_cycle",
        per_cycle(static_cast<double>(echo.switches), echo));
  r.set("accept_switches_per_cycle",
        per_cycle(static_cast<double>(governed.switches), governed));
  r.set_int("accept_cycles_n", per_round * rounds);
  r.set_int("accept_rounds", rounds);
  r.set_int("accept_inflight_conns", z.accept_window);
  r.set_int("accept_failed_cycles", bare.failed + echo.failed + governed.failed);
}

} // namespace rcmgr::bench
#endif
