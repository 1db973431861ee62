#include "net/connection.hpp"

#include <algorithm>
#include <iostream>

#include <asio/connect.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "messages/json.hpp"

namespace rcmgr::net {

std::string to_string(const asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  auto text = addr.to_string();
  if (addr.is_v6())
    text = "[" + text + "]";
  return text + ":" + std::to_string(ep.port());
}

connection::connection(std::shared_ptr<const node_context> ctx, connection_id id,
                       executor_type exec, tcp::socket sock)
    : ctx_(std::move(ctx)), id_(id), dir_(direction::inbound), exec_(std::move(exec)),
      socket_(std::move(sock)), timer_(exec_), throttle_timer_(exec_),
      verdict_timer_(exec_), state_(state::asking_pending),
      decoder_(ctx_->opts.max_frame_size) {
  std::error_code ec;
  auto l = socket_.local_endpoint(ec);
  if (!ec)
    local_ = to_string(l);
  auto r = socket_.remote_endpoint(ec);
  if (!ec)
    remote_ = to_string(r);
}

connection::connection(std::shared_ptr<const node_context> ctx, connection_id id,
                       executor_type exec, std::string host, std::string port,
                       dial_callback on_dial)
    : ctx_(std::move(ctx)), id_(id), dir_(direction::outbound), exec_(std::move(exec)),
      socket_(exec_), timer_(exec_), throttle_timer_(exec_), verdict_timer_(exec_),
      host_(std::move(host)), port_(std::move(port)), on_dial_(std::move(on_dial)),
      state_(state::asking_pending), decoder_(ctx_->opts.max_frame_size) {
  remote_ =
      (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" + port_;
}

connection::~connection() = default;

// -- the actor side ------------------------------------------------------------

gate_channel::reply connection::begin_ask(verdict_handler k) {
  awaiting_ = true;
  auto seq = ++ask_seq_;
  // What crosses into the actors: plain values, the loop handle and a weak
  // reference. Nothing Asio lives in a CAF callback.
  std::weak_ptr<connection> weak = weak_from_this();
  auto loop = ctx_->loop;
  // The timeout is an Asio timer on the io thread, not CAF's: in CAF 0.17 a
  // request timeout goes through the clock thread (a lock and a wake-up of
  // that thread to set it, the same again to cancel it), for every request.
  verdict_timer_.expires_after(ctx_->opts.verdict_timeout);
  verdict_timer_.async_wait([weak, k, seq](std::error_code ec) {
    if (ec)
      return; // cancelled: the verdict came
    if (auto self = weak.lock())
      self->take_verdict(seq, k, caf::make_error(caf::sec::request_timeout));
  });
  return [loop, weak, k, seq](caf::expected<verdict> v) {
    loop->post([weak, k, seq, v = std::move(v)]() mutable {
      if (auto self = weak.lock())
        asio::dispatch(self->exec_, [self, k, seq, v = std::move(v)]() mutable {
          self->take_verdict(seq, k, std::move(v));
        });
    });
  };
}

template <class Event> void connection::ask_gate(Event ev, verdict_handler k) {
  ctx_->to_gate->ask(to_lifecycle_event(std::move(ev)), begin_ask(k));
}

void connection::ask_rate_limiter(protocol_message msg, verdict_handler k) {
  auto back = begin_ask(k);
  auto dest = ctx_->actors.rate_limiter;
  caf::anon_send(ctx_->bridge, bridge_job{[dest, msg = std::move(msg),
                                           back](caf::event_based_actor* self) {
                   // No timeout here (begin_ask keeps it); a limiter that is
                   // gone answers with an error at once.
                   self->request(dest, caf::infinite, msg)
                       .then([back](verdict& v) { back(std::move(v)); },
                             [back](caf::error& e) { back(std::move(e)); });
                 }});
}

void connection::take_verdict(std::uint64_t seq, verdict_handler k,
                              caf::expected<verdict> v) {
  if (!awaiting_ || seq != ask_seq_)
    return; // a verdict after its timeout: the timeout already decided
  verdict_timer_.cancel();
  ((*this).*k)(std::move(v));
}

template <class Event> void connection::tell_gate(Event ev) {
  ctx_->to_gate->tell(to_lifecycle_event(std::move(ev)));
}

void connection::report_anomaly(anomaly kind) {
  auto gate = ctx_->actors.gate;
  caf::anon_send(ctx_->bridge, bridge_job{[gate, kind](caf::event_based_actor* self) {
                   self->send(gate, anomaly_report{kind});
                 }});
}

void connection::report_violation(const std::string& kind) {
  report_anomaly(anomaly_from_name(kind));
  auto watcher = ctx_->actors.watcher;
  if (watcher && !peer_.empty())
    caf::anon_send(watcher, peer_violation{peer_, kind});
}

// -- start ------------------------------------------------------------------------

void connection::start() {
  asio::post(exec_, [self = shared_from_this()] { self->do_start(); });
}

void connection::do_start() {
  if (state_ != state::asking_pending || awaiting_)
    return;
  if (dir_ == direction::inbound)
    ask_gate(pending_inbound{id_, local_, remote_}, &connection::on_pending_verdict);
  else
    ask_gate(pending_outbound{id_, peer_id{}, {remote_}},
             &connection::on_pending_verdict);
}

void connection::on_pending_verdict(caf::expected<verdict> v) {
  awaiting_ = false;
  // A verdict we could not get may still have been counted: report the
  // close (an unknown id is a no-op at the gate) rather than leak a slot.
  bool admitted = !v || v->allowed();
  if (state_ == state::closed) {
    admitted_ = admitted;
    finish();
    return;
  }
  if (!v) {
    admitted_ = true;
    finish_dial(dial_result{id_,
                            false,
                            {},
                            {},
                            false,
                            "no verdict from the gate: " + caf::to_string(v.error())});
    do_close("gate_unreachable");
    return;
  }
  if (!v->allowed()) {
    // Refused before any frame: close at once, send nothing.
    dial_result r{id_, false, {}, {}, false, {}};
    if (v->denied()) {
      r.refused = v->why;
      r.error = "refused by the local gate: " + dump_text(to_json(v->why));
    } else {
      r.error = "gate error: " + v->error;
    }
    finish_dial(std::move(r));
    do_close(v->denied() ? "refused" : "gate_error");
    return;
  }
  admitted_ = true;
  if (dir_ == direction::inbound) {
    state_ = state::handshaking;
    arm_handshake_timer();
    start_read();
  } else {
    state_ = state::dialing;
    resolver_ = std::make_unique<tcp::resolver>(exec_);
    dial_attempt();
  }
}

// -- dialing ----------------------------------------------------------------------

void connection::dial_attempt() {
  ++attempt_;
  resolver_->async_resolve(
      host_, port_,
      [self = shared_from_this()](std::error_code ec, tcp::resolver::results_type eps) {
        if (self->state_ != state::dialing)
          return self->finish();
        if (ec) {
          self->last_dial_error_ = "resolve " + self->host_ + ": " + ec.message();
          self->on_connect_failed();
          return;
        }
        asio::async_connect(self->socket_, eps,
                            [self](std::error_code ec2, const tcp::endpoint&) {
                              if (self->state_ != state::dialing)
                                return self->finish();
                              if (ec2) {
                                self->last_dial_error_ = ec2.message();
                                self->on_connect_failed();
                                return;
                              }
                              self->on_connected();
                            });
      });
}

void connection::on_connect_failed() {
  std::error_code ignore;
  socket_.close(ignore);
  if (attempt_ < ctx_->opts.dial_attempts) {
    auto delay = ctx_->opts.dial_backoff * (1 << std::min(attempt_ - 1, 16));
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (self->state_ != state::dialing)
        return self->finish();
      if (ec)
        return;
      self->dial_attempt();
    });
    return;
  }
  // Every attempt failed: the dial frees its pending slot.
  tell_gate(dial_failure{id_});
  admitted_ = false;
  finish_dial(dial_result{id_,
                          false,
                          {},
                          {},
                          false,
                          "connect to " + remote_ + " failed after " +
                              std::to_string(attempt_) +
                              " attempt(s): " + last_dial_error_});
  do_close("dial_failure");
}

void connection::on_connected() {
  std::error_code ec;
  auto l = socket_.local_endpoint(ec);
  if (!ec)
    local_ = to_string(l);
  socket_.set_option(tcp::no_delay(true), ec);
  state_ = state::handshaking;
  write(encode_hello(ctx_->opts.peer));
  arm_handshake_timer();
  start_read();
}

// -- handshake --------------------------------------------------------------------

void connection::arm_handshake_timer() {
  timer_.expires_after(ctx_->opts.handshake_timeout);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->state_ != state::handshaking)
      return;
    self->violation("handshake_timeout",
                    "no HELLO within " +
                        std::to_string(self->ctx_->opts.handshake_timeout.count()) +
                        " ms");
  });
}

void connection::on_established_verdict(caf::expected<verdict> v) {
  awaiting_ = false;
  if (state_ == state::closed) {
    if (v && v->denied())
      admitted_ = false; // the gate took it out of pending already
    finish();
    return;
  }
  if (!v) {
    finish_dial(dial_result{id_,
                            false,
                            {},
                            {},
                            false,
                            "no verdict from the gate: " + caf::to_string(v.error())});
    do_close("gate_unreachable");
    return;
  }
  if (v->denied()) {
    // Refused after HELLO: the other side learns why, then we close.
    admitted_ = false;
    finish_dial(dial_result{id_,
                            false,
                            {},
                            v->why,
                            false,
                            "refused by the local gate: " + dump_text(to_json(v->why))});
    write(encode_reject(v->why));
    close_after_flush("refused");
    return;
  }
  if (!v->allowed()) {
    finish_dial(dial_result{id_, false, {}, {}, false, "gate error: " + v->error});
    do_close("gate_error");
    return;
  }
  state_ = state::established;
  if (dir_ == direction::inbound)
    write(encode_hello(ctx_->opts.peer));
  if (ctx_->established)
    ctx_->established(id_, dir_, peer_, remote_);
  finish_dial(dial_result{id_, true, peer_, {}, false, {}});
  watch();
  process();
}

void connection::watch() {
  auto watcher = ctx_->actors.watcher;
  if (!watcher)
    return;
  watched_ = true;
  caf::anon_send(watcher,
                 watch_socket{id_, peer_, static_cast<int>(socket_.native_handle())});
}

// -- reading ----------------------------------------------------------------------

namespace {

/// The read bucket holds at most 50 ms of its rate (at least one byte).
double read_burst(std::uint64_t rate) {
  return std::max(1.0, static_cast<double>(rate) / 20.0);
}

} // namespace

void connection::refill_read_tokens() {
  auto now = std::chrono::steady_clock::now();
  auto earned = static_cast<double>(read_rate_) *
                std::chrono::duration<double>(now - refilled_at_).count();
  read_tokens_ = std::min(read_burst(read_rate_), read_tokens_ + earned);
  refilled_at_ = now;
}

bool connection::read_budget(std::size_t& max_read) {
  refill_read_tokens();
  auto rate = static_cast<double>(read_rate_);
  auto burst = read_burst(read_rate_);
  // Wait for a useful read (a full buffer, or the whole burst when smaller)
  // rather than waking up for every few bytes.
  auto wanted = std::min(burst, static_cast<double>(buf_.size()));
  if (read_tokens_ >= wanted) {
    max_read = std::min(buf_.size(), static_cast<std::size_t>(read_tokens_));
    return true;
  }
  throttle_waiting_ = true;
  auto wait = std::chrono::duration<double>((wanted - read_tokens_) / rate);
  throttle_timer_.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait) +
      std::chrono::microseconds(1));
  throttle_timer_.async_wait([self = shared_from_this()](std::error_code) {
    // Expired, or cancelled by a new rate: either way look again.
    self->throttle_waiting_ = false;
    self->start_read();
  });
  return false;
}

void connection::start_read() {
  if (reading_ || paused_ || awaiting_ || throttle_waiting_ ||
      (state_ != state::handshaking && state_ != state::established))
    return;
  std::size_t max_read = buf_.size();
  if (read_rate_ > 0 && !read_budget(max_read))
    return;
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(buf_.data(), max_read),
      [self = shared_from_this()](std::error_code ec, std::size_t n) {
        self->reading_ = false;
        if (self->state_ == state::closed || self->state_ == state::flushing)
          return self->finish();
        if (ec) {
          self->do_close(ec == asio::error::eof ? "eof" : ec.message());
          return;
        }
        self->bytes_in_ += n;
        if (self->read_rate_ > 0)
          self->read_tokens_ -= static_cast<double>(n);
        self->scratch_.clear();
        auto err = self->decoder_.feed(self->buf_.data(), n, self->scratch_);
        if (err) {
          // Garbage or an oversized frame: this connection is done; frames
          // decoded before the bad bytes are dropped with it.
          self->violation(err.kind, err.text);
          return;
        }
        for (auto& f : self->scratch_)
          self->frames_.push_back(std::move(f));
        self->process();
      });
}

void connection::process() {
  while (!frames_.empty() && !awaiting_ && !paused_ &&
         (state_ == state::handshaking || state_ == state::established)) {
    auto f = std::move(frames_.front());
    frames_.pop_front();
    handle(f);
  }
  start_read();
}

void connection::handle(frame& f) {
  if (state_ == state::handshaking) {
    if (f.type == frame_type::hello) {
      timer_.cancel();
      peer_ = f.peer;
      state_ = state::asking_established;
      if (dir_ == direction::inbound)
        ask_gate(established_inbound{id_, peer_, local_, remote_},
                 &connection::on_established_verdict);
      else
        ask_gate(established_outbound{id_, peer_, remote_},
                 &connection::on_established_verdict);
      return;
    }
    if (f.type == frame_type::reject && dir_ == direction::outbound) {
      // The remote refused us. We were admitted as pending: report the close.
      finish_dial(dial_result{id_,
                              false,
                              {},
                              f.why,
                              true,
                              "refused by the remote: " + dump_text(to_json(f.why))});
      do_close("rejected_by_remote");
      return;
    }
    violation("bad_frame", "expected HELLO first, got " + to_string(f.type));
    return;
  }
  // established
  switch (f.type) {
  case frame_type::hello:
    violation("bad_frame", "HELLO after the handshake");
    return;
  case frame_type::reject:
    if (ctx_->on_reject) {
      try {
        ctx_->on_reject(id_, peer_, f.why);
      } catch (...) {
        report_anomaly(anomaly::handler_error);
      }
    }
    return;
  case frame_type::data:
    in_flight_ = std::move(f);
    ask_rate_limiter(protocol_message{id_, peer_, in_flight_.protocol, 1},
                     &connection::on_rate_verdict);
    return;
  }
}

void connection::on_rate_verdict(caf::expected<verdict> v) {
  awaiting_ = false;
  if (state_ == state::closed)
    return finish();
  if (state_ != state::established)
    return;
  if (!v) {
    // No limiter, no delivery: fail closed for this message only.
    report_anomaly(anomaly::rate_limiter_unreachable);
  } else if (v->denied()) {
    // Refused, but the connection stays open.
    write(encode_reject(v->why));
    auto watcher = ctx_->actors.watcher;
    if (watcher)
      caf::anon_send(watcher, peer_violation{peer_, "rate_limited"});
  } else if (v->allowed()) {
    deliver(in_flight_);
  } else {
    report_anomaly(anomaly::rate_limiter_error);
  }
  in_flight_ = frame{};
  process();
}

void connection::deliver(const frame& f) {
  try {
    if (dir_ == direction::outbound) {
      if (ctx_->on_response)
        ctx_->on_response(id_, peer_, f.protocol, f.body);
      return;
    }
    auto i = ctx_->handlers.find(f.protocol);
    if (i == ctx_->handlers.end()) {
      report_anomaly(anomaly::unknown_protocol);
      return;
    }
    if (auto reply = i->second(peer_, f.body))
      write(encode_data(f.protocol, *reply));
  } catch (const std::exception& e) {
    std::cerr << "rcmgr net: handler for " << f.protocol << " failed: " << e.what()
              << '\n';
    report_anomaly(anomaly::handler_error);
  }
}

void connection::violation(decode_error_kind kind, const std::string& text) {
  violation(kind == decode_error_kind::oversized_frame ? "oversized_frame" : "bad_frame",
            text);
}

void connection::violation(const std::string& kind, const std::string& text) {
  report_violation(kind);
  finish_dial(dial_result{id_, false, {}, {}, false, kind + ": " + text});
  do_close(kind);
}

// -- writing ----------------------------------------------------------------------

void connection::write(std::string bytes) {
  out_bytes_ += bytes.size();
  out_.push_back(std::move(bytes));
  if (!writing_)
    do_write();
}

void connection::do_write() {
  if (out_.empty() || state_ == state::closed) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](std::error_code ec, std::size_t n) {
                      self->writing_ = false;
                      self->bytes_out_ += n;
                      if (self->state_ == state::closed)
                        return self->finish();
                      if (ec) {
                        self->do_close(ec.message());
                        return;
                      }
                      self->out_bytes_ -= self->out_.front().size();
                      self->out_.pop_front();
                      if (self->out_.empty() && self->state_ == state::flushing) {
                        std::error_code ignore;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignore);
                        self->do_close(self->close_reason_);
                        return;
                      }
                      if (!self->out_.empty())
                        self->do_write();
                      // Reading may have stopped at the high water mark.
                      self->process();
                    });
}

// -- closing ----------------------------------------------------------------------

void connection::send(protocol_id protocol, std::string body) {
  asio::post(exec_, [self = shared_from_this(), p = std::move(protocol),
                     b = std::move(body)]() mutable {
    if (self->state_ != state::established)
      return;
    try {
      self->write(encode_data(p, b));
    } catch (const std::invalid_argument& e) {
      std::cerr << "rcmgr net: not sent: " << e.what() << '\n';
    }
  });
}

void connection::pause() {
  asio::post(exec_, [self = shared_from_this()] { self->paused_ = true; });
}

void connection::resume() {
  asio::post(exec_, [self = shared_from_this()] {
    if (!self->paused_)
      return;
    self->paused_ = false;
    self->process();
  });
}

void connection::throttle(std::uint64_t bytes_per_s) {
  asio::post(exec_, [self = shared_from_this(), bytes_per_s] {
    if (self->read_rate_ == bytes_per_s)
      return;
    if (self->read_rate_ == 0) {
      // A new throttle starts with a full burst.
      self->read_tokens_ = read_burst(bytes_per_s);
      self->refilled_at_ = std::chrono::steady_clock::now();
    } else if (bytes_per_s > 0) {
      self->refill_read_tokens(); // keep what was earned at the old rate
    }
    self->read_rate_ = bytes_per_s;
    if (self->throttle_waiting_)
      self->throttle_timer_.cancel(); // its handler looks again
    else
      self->start_read();
  });
}

void connection::close(std::string reason) {
  asio::post(exec_, [self = shared_from_this(), r = std::move(reason)]() mutable {
    self->do_close(std::move(r));
  });
}

void connection::collect_traffic(std::function<void(const traffic_sample&)> sink) {
  asio::post(exec_, [self = shared_from_this(), sink = std::move(sink)] {
    if (self->bytes_in_ == 0 && self->bytes_out_ == 0)
      return;
    traffic_sample s{self->id_, self->bytes_in_, self->bytes_out_};
    self->bytes_in_ = 0;
    self->bytes_out_ = 0;
    sink(s);
  });
}

void connection::close_after_flush(std::string reason) {
  close_reason_ = std::move(reason);
  state_ = state::flushing;
  timer_.cancel();
  if (!writing_ && out_.empty())
    do_close(close_reason_);
}

void connection::do_close(std::string reason) {
  if (state_ == state::closed)
    return;
  state_ = state::closed;
  close_reason_ = std::move(reason);
  std::error_code ignore;
  timer_.cancel();
  throttle_timer_.cancel();
  // verdict_timer_ stays: an outstanding ask still needs its answer or its
  // timeout before finish() can report the close.
  if (resolver_)
    resolver_->cancel();
  socket_.close(ignore);
  frames_.clear();
  out_.clear();
  out_bytes_ = 0;
  finish();
}

void connection::finish() {
  // Pending operations complete with operation_aborted and call back here;
  // everything below happens once, when nothing more can arrive.
  if (finished_ || state_ != state::closed || awaiting_)
    return;
  finished_ = true;
  if (admitted_) {
    admitted_ = false;
    tell_gate(connection_closed{id_, peer_, close_reason_});
  }
  finish_dial(dial_result{id_, false, {}, {}, false, "closed: " + close_reason_});
  hand_over();
}

void connection::hand_over() {
  traffic_sample last{id_, bytes_in_, bytes_out_};
  bytes_in_ = 0;
  bytes_out_ = 0;
  bool watched = watched_;
  watched_ = false;
  if (ctx_->removed) {
    ctx_->removed(id_, dir_, last, watched);
  } else if (watched) {
    auto watcher = ctx_->actors.watcher;
    if (last.bytes_in + last.bytes_out > 0)
      caf::anon_send(watcher, traffic_report{{last}});
    caf::anon_send(watcher, unwatch_socket{id_});
  }
}

std::optional<traffic_sample> connection::abandon() {
  if (finished_)
    return std::nullopt;
  finished_ = true;
  // A verdict still out may have counted this connection (a pending one
  // admitted, or established): report the close. The gate takes events from
  // the bridge in order, so it sees the close after that verdict.
  if (admitted_ || awaiting_)
    tell_gate(connection_closed{id_, peer_, "shutdown"});
  admitted_ = false;
  finish_dial(dial_result{id_, false, {}, {}, false, "the node shut down"});
  if (!watched_)
    return std::nullopt;
  watched_ = false;
  return traffic_sample{id_, bytes_in_, bytes_out_};
}

void connection::finish_dial(dial_result r) {
  if (!on_dial_)
    return;
  auto cb = std::move(on_dial_);
  on_dial_ = nullptr;
  try {
    cb(r);
  } catch (...) {
    report_anomaly(anomaly::handler_error);
  }
}

} // namespace rcmgr::net
