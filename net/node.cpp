#include "net/node.hpp"

#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace rcmgr::net {

namespace {

using tcp = asio::ip::tcp;
using executor_type = connection::executor_type;

/// One order of the socket watcher for one connection.
struct watcher_order {
  enum kind_t { pause, resume, close, throttle } kind;
  connection_id conn = 0;
  std::string reason;     // close
  std::uint64_t rate = 0; // throttle
};

/// The net layer's face to the socket watcher: its orders, posted to the node.
struct control_state {
  std::shared_ptr<loop_handle> loop;
  std::function<void(watcher_order)> order; // runs on the io thread
};

net_control::behavior_type
control_actor_fn(net_control::stateful_pointer<control_state> self,
                 std::shared_ptr<loop_handle> loop,
                 std::function<void(watcher_order)> order) {
  self->state.loop = std::move(loop);
  self->state.order = std::move(order);
  auto post = [self](watcher_order o) {
    auto order = self->state.order;
    self->state.loop->post([order, o = std::move(o)] { order(o); });
  };
  return {
      [post](pause_atom, connection_id conn) {
        post({watcher_order::pause, conn, {}, 0});
      },
      [post](resume_atom, connection_id conn) {
        post({watcher_order::resume, conn, {}, 0});
      },
      [post](close_atom, connection_id conn, std::string& reason) {
        post({watcher_order::close, conn, std::move(reason), 0});
      },
      [post](throttle_atom, connection_id conn, std::uint64_t rate) {
        post({watcher_order::throttle, conn, {}, rate});
      },
  };
}

} // namespace

struct node::impl {
  caf::actor_system& sys;
  /// The log when the owner set none; outlives the io thread.
  std::unique_ptr<async_log> own_log;
  log_hook log;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  executor_type exec; // the node's own state below lives on it
  std::shared_ptr<loop_handle> loop;
  caf::actor bridge;
  net_control control;

  std::mutex setup_mtx; // guards `building`/`ctx` while user threads set up
  std::shared_ptr<node_context> building;
  std::shared_ptr<const node_context> ctx;
  peer_id self_peer;
  std::chrono::milliseconds interval{100};
  std::chrono::milliseconds verdict_timeout{5000};
  socket_watcher_actor watcher;
  std::mutex down_mtx;
  bool down = false; // user-facing: shutdown() ran

  // -- on the io thread ------------------------------------------------------
  bool closing = false;
  connection_id next_id = 1;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::unique_ptr<asio::steady_timer>> accept_retry;
  std::map<connection_id, std::shared_ptr<connection>> inbound;  // the acceptor pool
  std::map<connection_id, std::shared_ptr<connection>> outbound; // the connector pool
  struct live_out {
    std::string address;
    peer_id peer;
  };
  std::map<connection_id, live_out> established_out;
  std::map<connection_id, std::string> dialing_out; // address, until established
  asio::steady_timer traffic_timer{exec};
  std::vector<traffic_sample> traffic; // collected since the last report
  /// Gone since the last report: unwatched right after it, so the watcher
  /// never gets traffic for a connection it already forgot.
  std::vector<connection_id> unwatch_pending;
  std::promise<void> all_gone; // set once closing and no connection is left
  bool all_gone_set = false;

  std::thread thread;

  impl(caf::actor_system& sys, node_actors actors, node_options opts)
      : sys(sys), work(asio::make_work_guard(io)), exec(io.get_executor()),
        loop(std::make_shared<loop_handle>(io)) {
    if (opts.peer.empty() || opts.peer.size() > max_peer_id)
      throw std::invalid_argument("a node's peer id must be 1.." +
                                  std::to_string(max_peer_id) + " bytes");
    if (opts.log) {
      log = opts.log;
    } else {
      own_log = std::make_unique<async_log>(async_log::to_file(stderr, "rcmgr net: "));
      log = own_log->hook();
    }
    if (opts.dial_attempts < 1)
      opts.dial_attempts = 1;
    if (opts.traffic_interval < std::chrono::milliseconds{100})
      opts.traffic_interval = std::chrono::milliseconds{100};
    self_peer = opts.peer;
    interval = opts.traffic_interval;
    verdict_timeout = opts.verdict_timeout;
    next_id = opts.first_connection_id;
    watcher = actors.watcher;
    bridge = sys.spawn(actor_bridge, opts.peer);
    building = std::make_shared<node_context>();
    building->opts = std::move(opts);
    building->actors = std::move(actors);
    building->bridge = bridge;
    building->to_gate = std::make_shared<gate_channel>(io, bridge, building->actors.gate);
    building->loop = loop;
    building->log = log;
    building->established = [this](connection_id id, direction dir, const peer_id& peer,
                                   const std::string& address) {
      asio::post(exec, [this, id, dir, peer, address] {
        if (dir == direction::outbound && outbound.count(id) != 0) {
          established_out[id] = live_out{address, peer};
          dialing_out.erase(id);
        }
      });
    };
    building->removed = [this](connection_id id, direction dir,
                               const traffic_sample& last, bool watched) {
      asio::post(exec, [this, id, dir, last, watched] {
        if (dir == direction::inbound) {
          inbound.erase(id);
        } else {
          outbound.erase(id);
          established_out.erase(id);
          dialing_out.erase(id);
        }
        if (watched) {
          if (last.bytes_in + last.bytes_out > 0)
            traffic.push_back(last);
          unwatch_pending.push_back(id);
        }
        note_if_all_gone();
      });
    };
    control = sys.spawn(control_actor_fn, loop,
                        std::function<void(watcher_order)>{[this](watcher_order o) {
                          asio::post(exec, [this, o = std::move(o)] {
                            auto c = find(o.conn);
                            if (!c)
                              return;
                            switch (o.kind) {
                            case watcher_order::pause:
                              c->pause();
                              break;
                            case watcher_order::resume:
                              c->resume();
                              break;
                            case watcher_order::close:
                              c->close(o.reason);
                              break;
                            case watcher_order::throttle:
                              c->throttle(o.rate);
                              break;
                            }
                          });
                        }});
    if (building->actors.watcher)
      caf::anon_send(building->actors.watcher, subscribe_atom::value, control);
    if (building->actors.watcher)
      asio::post(exec, [this] { traffic_tick(); });
    thread = std::thread{[this] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          write_log(log_level::error, std::string{"io thread: "} + e.what());
        } catch (...) {
          write_log(log_level::error,
                    "io thread: an exception that is not a std::exception");
        }
      }
    }};
  }

  void write_log(log_level level, const std::string& text) {
    try {
      log(level, text);
    } catch (...) {
      // A log hook that throws loses its line, never the node.
    }
  }

  /// Every traffic interval: one report with what the connections handed in
  /// since the last one (so at most one report per interval), then collect.
  void traffic_tick() {
    if (closing)
      return;
    report_traffic();
    auto sink = [this](const traffic_sample& s) {
      asio::post(exec, [this, s] { traffic.push_back(s); });
    };
    for (auto& [id, c] : inbound)
      c->collect_traffic(sink);
    for (auto& [id, c] : outbound)
      c->collect_traffic(sink);
    traffic_timer.expires_after(interval);
    traffic_timer.async_wait([this](std::error_code ec) {
      if (!ec)
        traffic_tick();
    });
  }

  /// Sends what was collected, then the unwatches of connections gone since.
  void report_traffic() {
    if (!watcher)
      return;
    if (!traffic.empty()) {
      caf::anon_send(watcher, traffic_report{std::move(traffic)});
      traffic.clear();
    }
    for (auto id : unwatch_pending)
      caf::anon_send(watcher, unwatch_socket{id});
    unwatch_pending.clear();
  }

  void note_if_all_gone() {
    if (closing && !all_gone_set && inbound.empty() && outbound.empty()) {
      all_gone_set = true;
      all_gone.set_value();
    }
  }

  /// Freezes the shared context on first use.
  std::shared_ptr<const node_context> context() {
    std::lock_guard<std::mutex> guard{setup_mtx};
    if (!ctx)
      ctx = std::move(building);
    return ctx;
  }

  node_context& setup() {
    std::lock_guard<std::mutex> guard{setup_mtx};
    if (ctx)
      throw std::logic_error(
          "rcmgr::net::node: set handlers before listen() or connect()");
    return *building;
  }

  bool is_down() {
    std::lock_guard<std::mutex> guard{down_mtx};
    return down;
  }

  void check_not_io_thread(const char* what) {
    if (std::this_thread::get_id() == thread.get_id())
      throw std::logic_error(std::string{"rcmgr::net::node::"} + what +
                             " blocks and must not run on the io thread");
  }

  std::shared_ptr<connection> find(connection_id id) {
    if (auto i = inbound.find(id); i != inbound.end())
      return i->second;
    if (auto i = outbound.find(id); i != outbound.end())
      return i->second;
    return nullptr;
  }

  void start_accept(tcp::acceptor* acc, std::size_t index) {
    auto cs = io.get_executor();
    acc->async_accept(cs, [this, acc, index, cs](std::error_code ec, tcp::socket sock) {
      if (closing || ec == asio::error::operation_aborted)
        return;
      if (ec) {
        // E.g. out of file descriptors: try again shortly, do not spin.
        write_log(log_level::warning, "accept: " + ec.message());
        accept_retry[index]->expires_after(std::chrono::milliseconds{50});
        accept_retry[index]->async_wait([this, acc, index](std::error_code e2) {
          if (!e2 && !closing)
            start_accept(acc, index);
        });
        return;
      }
      std::error_code ignore;
      sock.set_option(tcp::no_delay(true), ignore);
      auto id = next_id++;
      auto c = std::make_shared<connection>(ctx, id, cs, std::move(sock));
      inbound.emplace(id, c);
      c->start();
      start_accept(acc, index);
    });
  }

  void dial(const std::string& host, std::uint16_t port, dial_callback done) {
    auto c = context();
    asio::post(exec, [this, c, host, port, done = std::move(done)]() mutable {
      if (closing) {
        done(dial_result{0, false, {}, {}, false, "the node is shutting down"});
        return;
      }
      auto id = next_id++;
      auto conn = std::make_shared<connection>(c, id, io.get_executor(), host,
                                               std::to_string(port), std::move(done));
      outbound.emplace(id, conn);
      dialing_out.emplace(id, address_of(host, port));
      conn->start();
    });
  }

  static std::string address_of(const std::string& host, std::uint16_t port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
  }

  /// The connector: an idle established connection to the address (nothing
  /// queued to write) when there is one; else a new dial while fewer than
  /// `max_connections_per_peer` are live or being dialled; else the live one
  /// with the least queued.
  void reuse_or_dial(const std::string& host, std::uint16_t port, dial_callback done) {
    auto c = context();
    auto cap = c->opts.max_connections_per_peer;
    asio::post(exec, [this, host, port, cap, done = std::move(done)]() mutable {
      auto address = address_of(host, port);
      std::size_t open = 0;
      connection_id best = 0;
      std::size_t best_queued = 0;
      for (auto& [id, live] : established_out) {
        auto i = outbound.find(id);
        if (live.address != address || i == outbound.end())
          continue;
        ++open;
        auto queued = i->second->queued_bytes();
        if (best == 0 || queued < best_queued) {
          best = id;
          best_queued = queued;
        }
      }
      for (auto& [id, addr] : dialing_out)
        if (addr == address)
          ++open;
      if (best != 0 && (best_queued == 0 || open >= cap)) {
        done(dial_result{best, true, established_out[best].peer, {}, false, {}});
        return;
      }
      if (open >= cap) {
        done(dial_result{0,
                         false,
                         {},
                         {},
                         false,
                         "already " + std::to_string(open) + " connection(s) to " +
                             address + " being dialled (max_connections_per_peer " +
                             std::to_string(cap) + ")"});
        return;
      }
      dial(host, port, std::move(done));
    });
  }
};

node::node(caf::actor_system& sys, node_actors actors, node_options opts)
    : d_(std::make_unique<impl>(sys, std::move(actors), std::move(opts))) {}

node::~node() {
  shutdown();
}

const peer_id& node::peer() const {
  return d_->self_peer;
}

void node::handle(const protocol_id& protocol, protocol_handler handler) {
  d_->setup().handlers[protocol] = std::move(handler);
}

void node::on_response(response_handler handler) {
  d_->setup().on_response = std::move(handler);
}

void node::on_reject(reject_handler handler) {
  d_->setup().on_reject = std::move(handler);
}

std::uint16_t node::listen(const std::string& host, std::uint16_t port) {
  d_->check_not_io_thread("listen");
  if (d_->is_down())
    throw std::logic_error("rcmgr::net::node::listen after shutdown");
  d_->context();
  std::promise<std::uint16_t> bound;
  auto result = bound.get_future();
  asio::post(d_->exec, [this, &bound, host, port] {
    auto& d = *d_;
    try {
      if (d.closing)
        throw std::logic_error("the node is shutting down");
      tcp::resolver resolver{d.io};
      auto eps =
          resolver.resolve(host, std::to_string(port),
                           tcp::resolver::passive | tcp::resolver::numeric_service);
      auto ep = eps.begin()->endpoint();
      auto acc = std::make_unique<tcp::acceptor>(d.exec);
      acc->open(ep.protocol());
      acc->set_option(tcp::acceptor::reuse_address(true));
      acc->bind(ep);
      acc->listen(asio::socket_base::max_listen_connections);
      auto p = acc->local_endpoint().port();
      d.acceptors.push_back(std::move(acc));
      d.accept_retry.push_back(std::make_unique<asio::steady_timer>(d.exec));
      d.start_accept(d.acceptors.back().get(), d.acceptors.size() - 1);
      bound.set_value(p);
    } catch (...) {
      bound.set_exception(std::current_exception());
    }
  });
  return result.get();
}

void node::connect(const std::string& host, std::uint16_t port, dial_callback done) {
  d_->dial(host, port, std::move(done));
}

std::future<dial_result> node::connect(const std::string& host, std::uint16_t port) {
  auto p = std::make_shared<std::promise<dial_result>>();
  auto f = p->get_future();
  d_->dial(host, port, [p](const dial_result& r) { p->set_value(r); });
  return f;
}

void node::get_or_connect(const std::string& host, std::uint16_t port,
                          dial_callback done) {
  d_->reuse_or_dial(host, port, std::move(done));
}

std::future<dial_result> node::get_or_connect(const std::string& host,
                                              std::uint16_t port) {
  auto p = std::make_shared<std::promise<dial_result>>();
  auto f = p->get_future();
  d_->reuse_or_dial(host, port, [p](const dial_result& r) { p->set_value(r); });
  return f;
}

void node::send(connection_id conn, const protocol_id& protocol, std::string body) {
  asio::post(d_->exec, [d = d_.get(), conn, protocol, body = std::move(body)]() mutable {
    if (auto c = d->find(conn))
      c->send(protocol, std::move(body));
  });
}

void node::pause(connection_id conn) {
  asio::post(d_->exec, [d = d_.get(), conn] {
    if (auto c = d->find(conn))
      c->pause();
  });
}

void node::resume(connection_id conn) {
  asio::post(d_->exec, [d = d_.get(), conn] {
    if (auto c = d->find(conn))
      c->resume();
  });
}

void node::close(connection_id conn, const std::string& reason) {
  asio::post(d_->exec, [d = d_.get(), conn, reason] {
    if (auto c = d->find(conn))
      c->close(reason);
  });
}

std::future<std::size_t> node::queued_bytes(connection_id conn) {
  auto p = std::make_shared<std::promise<std::size_t>>();
  auto f = p->get_future();
  if (d_->is_down()) {
    p->set_value(0);
    return f;
  }
  asio::post(d_->exec, [d = d_.get(), conn, p] {
    auto c = d->find(conn);
    p->set_value(c ? c->queued_bytes() : 0);
  });
  return f;
}

net_control node::control() const {
  return d_->control;
}

std::pair<std::uint64_t, std::uint64_t> node::gate_batches() const {
  std::shared_ptr<gate_channel> to_gate;
  {
    std::lock_guard<std::mutex> guard{d_->setup_mtx};
    to_gate = d_->ctx ? d_->ctx->to_gate : d_->building->to_gate;
  }
  return {to_gate->batches(), to_gate->events()};
}

void node::shutdown() {
  auto& d = *d_;
  {
    std::lock_guard<std::mutex> guard{d.down_mtx};
    if (d.down)
      return;
    d.down = true;
  }
  if (std::this_thread::get_id() == d.thread.get_id())
    throw std::logic_error("rcmgr::net::node::shutdown must not run on the io thread");
  // Close every listener and connection on the io thread; each admitted
  // connection reports connection_closed through the bridge.
  auto gone = d.all_gone.get_future();
  asio::post(d.exec, [&d] {
    d.closing = true;
    std::error_code ignore;
    for (auto& acc : d.acceptors)
      acc->close(ignore);
    for (auto& t : d.accept_retry)
      t->cancel();
    d.traffic_timer.cancel();
    for (auto& [id, c] : d.inbound)
      c->close("shutdown");
    for (auto& [id, c] : d.outbound)
      c->close("shutdown");
    d.note_if_all_gone();
  });
  // A connection waiting for a verdict finishes when it comes back (every
  // request has the verdict timeout), so wait that long for all of them to
  // report their close; whatever is left is abandoned below.
  auto wait = d.verdict_timeout + std::chrono::milliseconds(500);
  gone.wait_for(wait);
  // Then let the io_context run out of work: every aborted operation
  // completes, and run() returns.
  d.work.reset();
  if (d.thread.joinable())
    d.thread.join();
  // From here on, late verdicts are dropped instead of posted. The io thread
  // is gone: this thread alone touches the node and its connections now.
  d.loop->close();
  for (auto* pool : {&d.inbound, &d.outbound})
    for (auto& [id, c] : *pool)
      if (auto last = c->abandon()) {
        if (last->bytes_in + last->bytes_out > 0)
          d.traffic.push_back(*last);
        d.unwatch_pending.push_back(id);
      }
  // The closes just told (and anything queued as the loop stopped) go out
  // now: the flush the channel posted will never run.
  std::shared_ptr<gate_channel> to_gate;
  {
    std::lock_guard<std::mutex> guard{d.setup_mtx};
    to_gate = d.ctx ? d.ctx->to_gate : d.building->to_gate;
  }
  to_gate->flush();
  d.report_traffic();
  caf::anon_send_exit(d.control, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.bridge, caf::exit_reason::user_shutdown);
  d.inbound.clear();
  d.outbound.clear();
  d.established_out.clear();
  d.acceptors.clear();
  d.accept_retry.clear();
}

} // namespace rcmgr::net
