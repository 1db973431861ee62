#include "net/connection.hpp"

#include <asio/post.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "messages/batches.hpp"
#include "messages/json.hpp"

namespace rcmgr::net {

namespace {

dial_result failed_dial(connection_id id, std::string error,
                        std::optional<denial> refused = std::nullopt,
                        bool by_remote = false) {
  return dial_result{id, false, {}, std::move(refused), by_remote, std::move(error)};
}

} // namespace

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
      stream_(*this, std::move(sock), ctx_->opts.max_frame_size,
              ctx_->opts.write_high_water),
      verdicts_(*this, exec_), handshake_timer_(exec_) {
  std::error_code ec;
  auto l = stream_.socket().local_endpoint(ec);
  if (!ec)
    local_ = to_string(l);
  auto r = stream_.socket().remote_endpoint(ec);
  if (!ec)
    remote_ = to_string(r);
}

connection::connection(std::shared_ptr<const node_context> ctx, connection_id id,
                       executor_type exec, std::string host, std::string port,
                       dial_callback on_dial)
    : ctx_(std::move(ctx)), id_(id), dir_(direction::outbound), exec_(std::move(exec)),
      stream_(*this, exec_, ctx_->opts.max_frame_size, ctx_->opts.write_high_water),
      verdicts_(*this, exec_), handshake_timer_(exec_), on_dial_(std::move(on_dial)) {
  remote_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  dialer_ = std::make_unique<dialer>(exec_, std::move(host), std::move(port),
                                     ctx_->opts.dial_attempts, ctx_->opts.dial_backoff);
}

connection::~connection() = default;

// -- the actor side -------------------------------------------------------------

template <class Event> void connection::ask_gate(Event ev, verdict_client::topic t) {
  verdicts_.ask_gate(*ctx_, to_lifecycle_event(std::move(ev)), t, weak_from_this());
}

template <class Event> void connection::tell_gate(Event ev) {
  ctx_->to_gate->tell(to_lifecycle_event(std::move(ev)));
}

void connection::report_anomaly(anomaly kind) {
  auto gate = ctx_->actors.gate;
  caf::anon_send(ctx_->bridge, bridge_job{[gate, kind](bridge_self self) {
                   self->send(gate, anomaly_report{kind});
                 }});
}

void connection::report_violation(const std::string& kind) {
  report_anomaly(anomaly_from_name(kind));
  auto watcher = ctx_->actors.watcher;
  if (watcher && !peer_.empty())
    caf::anon_send(watcher, peer_violation{peer_, kind});
}

void connection::log(log_level level, const std::string& text) {
  try {
    ctx_->log(level, text);
  } catch (...) {
    // A log hook that throws loses its line, never the connection.
  }
}

void connection::on_verdict(verdict_client::topic t, caf::expected<verdict> v) {
  if (!v) {
    bool from_gate = t != verdict_client::topic::message;
    report_anomaly(from_gate ? anomaly::gate_unreachable
                             : anomaly::rate_limiter_unreachable);
    log(log_level::warning,
        std::string{from_gate ? "no verdict from the gate: "
                              : "no verdict from the rate limiter: "} +
            caf::to_string(v.error()));
    if (ctx_->opts.when_unreachable == unreachable_policy::fail_open)
      v = verdict::allow();
  }
  switch (t) {
  case verdict_client::topic::pending:
    return on_pending_verdict(std::move(v));
  case verdict_client::topic::established:
    return on_established_verdict(std::move(v));
  case verdict_client::topic::message:
    return on_message_verdict(std::move(v));
  }
}

// -- admission --------------------------------------------------------------------

void connection::start() {
  asio::post(exec_, [self = shared_from_this()] {
    if (self->state_ != state::asking_pending || self->verdicts_.waiting())
      return;
    if (self->dir_ == direction::inbound)
      self->ask_gate(pending_inbound{self->id_, self->local_, self->remote_},
                     verdict_client::topic::pending);
    else
      self->ask_gate(pending_outbound{self->id_, peer_id{}, {self->remote_}},
                     verdict_client::topic::pending);
  });
}

void connection::on_pending_verdict(caf::expected<verdict> v) {
  if (state_ != state::asking_pending) {
    // Closed while asking. A verdict we could not get may still have been
    // counted: report the close (an unknown id is a no-op at the gate)
    // rather than leak a slot.
    if (v && !v->allowed() && state_ == state::closing_counted)
      state_ = state::closing;
    return finish();
  }
  if (!v) {
    finish_dial(
        failed_dial(id_, "no verdict from the gate: " + caf::to_string(v.error())));
    return enter_closing(state::closing_counted, "gate_unreachable");
  }
  if (v->denied() && dir_ == direction::inbound) {
    // Refused before any frame: the remote learns why (it cannot tell a
    // silent close from a network fault), then the close. The gate counts
    // nothing; the REJECT is one small write, so the socket goes at once.
    state_ = state::refusing;
    close_reason_ = "refused";
    send_reject(v->why);
    return stream_.close_after_flush();
  }
  if (!v->allowed()) {
    // An outbound refusal fails the dial before any socket is opened.
    if (v->denied())
      finish_dial(failed_dial(
          id_, "refused by the local gate: " + dump_text(to_json(v->why)), v->why));
    else
      finish_dial(failed_dial(id_, "gate error: " + v->error));
    return enter_closing(state::closing, v->denied() ? "refused" : "gate_error");
  }
  if (dir_ == direction::inbound)
    begin_handshake();
  else
    dial();
}

void connection::dial() {
  state_ = state::dialing;
  dialer_->start(stream_.socket(), shared_from_this(),
                 [this](const std::string& error) { on_dialed(error); });
}

void connection::on_dialed(const std::string& error) {
  if (state_ != state::dialing)
    return;
  if (error.empty())
    return begin_handshake();
  // Every attempt failed: the dial frees its pending slot.
  tell_gate(dial_failure{id_});
  finish_dial(failed_dial(id_, "connect to " + remote_ + " failed after " +
                                   std::to_string(dialer_->attempts_made()) +
                                   " attempt(s): " + error));
  enter_closing(state::closing, "dial_failure");
}

// -- handshake --------------------------------------------------------------------

void connection::begin_handshake() {
  state_ = state::handshaking;
  if (dir_ == direction::outbound) {
    std::error_code ec;
    auto& sock = stream_.socket();
    auto l = sock.local_endpoint(ec);
    if (!ec)
      local_ = to_string(l);
    sock.set_option(tcp::no_delay(true), ec);
    stream_.write(encode_hello(ctx_->opts.peer));
  }
  handshake_timer_.expires_after(ctx_->opts.handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->state_ != state::handshaking)
      return;
    self->violation("handshake_timeout",
                    "no HELLO within " +
                        std::to_string(self->ctx_->opts.handshake_timeout.count()) +
                        " ms");
  });
  stream_.start_reading();
}

void connection::on_handshake_frame(frame& f) {
  if (f.type == frame_type::hello) {
    handshake_timer_.cancel();
    peer_ = std::move(f.peer);
    state_ = state::asking_established;
    if (dir_ == direction::inbound)
      ask_gate(established_inbound{id_, peer_, local_, remote_},
               verdict_client::topic::established);
    else
      ask_gate(established_outbound{id_, peer_, remote_},
               verdict_client::topic::established);
    return;
  }
  if (f.type == frame_type::reject && dir_ == direction::outbound) {
    // The remote refused us. We were admitted as pending: report the close.
    finish_dial(failed_dial(id_, "refused by the remote: " + dump_text(to_json(f.why)),
                            f.why, true));
    return do_close("rejected_by_remote");
  }
  violation("bad_frame", "expected HELLO first, got " + to_string(f.type));
}

void connection::on_established_verdict(caf::expected<verdict> v) {
  if (state_ != state::asking_established) {
    // Closed while asking: a denial took it out of pending already.
    if (v && v->denied() && state_ == state::closing_counted)
      state_ = state::closing;
    return finish();
  }
  if (!v) {
    finish_dial(
        failed_dial(id_, "no verdict from the gate: " + caf::to_string(v.error())));
    return do_close("gate_unreachable");
  }
  if (v->denied()) {
    // Refused after HELLO: the other side learns why, then we close.
    finish_dial(failed_dial(
        id_, "refused by the local gate: " + dump_text(to_json(v->why)), v->why));
    state_ = state::refusing;
    close_reason_ = "refused";
    send_reject(v->why);
    return stream_.close_after_flush();
  }
  if (!v->allowed()) {
    finish_dial(failed_dial(id_, "gate error: " + v->error));
    return do_close("gate_error");
  }
  establish();
}

void connection::establish() {
  state_ = state::established;
  if (dir_ == direction::inbound) {
    rejects_expected_ = 1; // the client may still refuse us, first thing
    stream_.write(encode_hello(ctx_->opts.peer));
  }
  if (ctx_->established)
    ctx_->established(id_, dir_, peer_, remote_);
  finish_dial(dial_result{id_, true, peer_, {}, false, {}});
  watch();
  stream_.pump();
}

void connection::watch() {
  if (auto watcher = ctx_->actors.watcher)
    caf::anon_send(
        watcher,
        watch_socket{id_, peer_, static_cast<int>(stream_.socket().native_handle())});
}

// -- frames -----------------------------------------------------------------------

bool connection::taking_frames() const {
  return (state_ == state::handshaking || state_ == state::established) &&
         !verdicts_.waiting();
}

void connection::on_frame(frame& f) {
  if (state_ == state::handshaking)
    on_handshake_frame(f);
  else if (state_ == state::established)
    on_established_frame(f);
}

void connection::on_established_frame(frame& f) {
  switch (f.type) {
  case frame_type::hello:
    return violation("bad_frame", "HELLO after the handshake");
  case frame_type::reject:
    return on_reject_frame(f);
  case frame_type::data:
    if (dir_ == direction::inbound)
      rejects_expected_ = 0; // a refusal of the connection comes first or not at all
    in_flight_ = std::move(f);
    verdicts_.ask_rate_limiter(
        *ctx_, protocol_message{id_, peer_, in_flight_.protocol, 1}, weak_from_this());
    return;
  }
}

void connection::on_reject_frame(const frame& f) {
  if (rejects_expected_ == 0)
    return violation("unsolicited_reject", "a REJECT the protocol does not expect");
  --rejects_expected_;
  if (ctx_->on_reject) {
    try {
      ctx_->on_reject(id_, peer_, f.why);
    } catch (...) {
      report_anomaly(anomaly::handler_error);
    }
  }
  if (dir_ == direction::inbound)
    do_close("rejected_by_remote");
}

void connection::on_message_verdict(caf::expected<verdict> v) {
  if (state_ != state::established)
    return finish();
  if (!v) {
    // No limiter, no delivery (fail closed for this message only; counted
    // in on_verdict).
  } else if (v->denied()) {
    // Refused, but the connection stays open.
    send_reject(v->why);
    if (auto watcher = ctx_->actors.watcher)
      caf::anon_send(watcher, peer_violation{peer_, "rate_limited"});
  } else if (v->allowed()) {
    deliver(in_flight_);
  } else {
    report_anomaly(anomaly::rate_limiter_error);
  }
  in_flight_ = frame{};
  stream_.pump();
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
      stream_.write(encode_data(f.protocol, *reply));
  } catch (const std::exception& e) {
    log(log_level::warning, "handler for " + f.protocol + " failed: " + e.what());
    report_anomaly(anomaly::handler_error);
  } catch (...) {
    log(log_level::warning, "handler for " + f.protocol + " failed");
    report_anomaly(anomaly::handler_error);
  }
}

void connection::send_reject(const denial& why) {
  try {
    stream_.write(encode_reject(why));
  } catch (const std::exception& e) {
    log(log_level::error, std::string{"REJECT not sent: "} + e.what());
  }
}

void connection::violation(const std::string& kind, const std::string& text) {
  report_violation(kind);
  finish_dial(failed_dial(id_, kind + ": " + text));
  do_close(kind);
}

void connection::on_stream_failed(stream_failure why, const std::string& text) {
  switch (why) {
  case stream_failure::eof:
    return do_close("eof");
  case stream_failure::io_error:
    return do_close(text);
  case stream_failure::bad_frame:
    return violation("bad_frame", text);
  case stream_failure::oversized_frame:
    return violation("oversized_frame", text);
  }
}

void connection::on_flushed() {
  do_close(close_reason_);
}

// -- orders from the node -----------------------------------------------------------

void connection::send(protocol_id protocol, std::string body) {
  asio::post(exec_, [self = shared_from_this(), p = std::move(protocol),
                     b = std::move(body)]() mutable {
    if (self->state_ != state::established)
      return;
    std::string bytes;
    try {
      bytes = encode_data(p, b);
    } catch (const std::invalid_argument& e) {
      self->log(log_level::warning, std::string{"not sent: "} + e.what());
      return;
    }
    if (self->dir_ == direction::outbound)
      ++self->rejects_expected_; // the remote may refuse it with a REJECT
    self->stream_.write(std::move(bytes));
  });
}

void connection::pause() {
  asio::post(exec_, [self = shared_from_this()] { self->stream_.pause(); });
}

void connection::resume() {
  asio::post(exec_, [self = shared_from_this()] { self->stream_.resume(); });
}

void connection::throttle(std::uint64_t bytes_per_s) {
  asio::post(exec_, [self = shared_from_this(), bytes_per_s] {
    self->stream_.throttle(bytes_per_s);
  });
}

void connection::close(std::string reason) {
  asio::post(exec_, [self = shared_from_this(), r = std::move(reason)]() mutable {
    self->do_close(std::move(r));
  });
}

void connection::collect_traffic(std::function<void(const traffic_sample&)> sink) {
  asio::post(exec_, [self = shared_from_this(), sink = std::move(sink)] {
    // Only a watched connection: the watcher counts traffic of a connection
    // it does not know as an anomaly.
    if (self->state_ != state::established || !self->stream_.moved_bytes())
      return;
    auto t = self->stream_.take_traffic();
    sink(traffic_sample{self->id_, t.in, t.out});
  });
}

// -- closing ------------------------------------------------------------------------

void connection::do_close(std::string reason) {
  switch (state_) {
  case state::established:
    return enter_closing(state::closing_established, std::move(reason));
  case state::asking_pending: // a verdict still out may count it
  case state::dialing:
  case state::handshaking:
  case state::asking_established:
    return enter_closing(state::closing_counted, std::move(reason));
  case state::refusing:
    return enter_closing(state::closing, std::move(reason));
  case state::closing_established:
  case state::closing_counted:
  case state::closing:
  case state::finished:
    return;
  }
}

void connection::enter_closing(state next, std::string reason) {
  state_ = next;
  close_reason_ = std::move(reason);
  handshake_timer_.cancel();
  if (dialer_)
    dialer_->cancel();
  stream_.close();
  // The verdict deadline stays: an outstanding ask still needs its answer
  // or its timeout before finish() can report the close.
  finish();
}

void connection::finish() {
  if (verdicts_.waiting())
    return;
  bool report = state_ == state::closing_established || state_ == state::closing_counted;
  bool watched = state_ == state::closing_established && ctx_->actors.watcher;
  if (!report && state_ != state::closing)
    return;
  state_ = state::finished;
  if (report)
    tell_gate(connection_closed{id_, peer_, close_reason_});
  finish_dial(failed_dial(id_, "closed: " + close_reason_));
  hand_over(watched);
}

void connection::hand_over(bool watched) {
  auto t = stream_.take_traffic();
  traffic_sample last{id_, t.in, t.out};
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
  if (state_ == state::finished)
    return std::nullopt;
  // A verdict still out may have counted this connection (a pending one
  // admitted, or established): report the close. The gate takes events from
  // the bridge in order, so it sees the close after that verdict.
  bool report =
      verdicts_.waiting() || (state_ != state::asking_pending &&
                              state_ != state::refusing && state_ != state::closing);
  bool watched = (state_ == state::established || state_ == state::closing_established) &&
                 ctx_->actors.watcher;
  state_ = state::finished;
  if (report)
    tell_gate(connection_closed{id_, peer_, "shutdown"});
  finish_dial(failed_dial(id_, "the node shut down"));
  if (!watched)
    return std::nullopt;
  auto t = stream_.take_traffic();
  return traffic_sample{id_, t.in, t.out};
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
