#include "net/verdict_client.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "net/node_context.hpp"

namespace rcmgr::net {

verdict_client::verdict_client(owner& o, const asio::io_context::executor_type& exec)
    : owner_(o), deadline_(exec) {}

std::uint64_t verdict_client::begin(const node_context& ctx, topic t,
                                    const std::weak_ptr<void>& alive) {
  waiting_ = true;
  topic_ = t;
  auto seq = ++seq_;
  deadline_.expires_after(ctx.opts.verdict_timeout);
  deadline_.async_wait([this, alive, seq](std::error_code ec) {
    if (ec)
      return; // cancelled: the verdict came
    if (auto keep = alive.lock())
      take(seq, caf::make_error(caf::sec::request_timeout));
  });
  return seq;
}

void verdict_client::take(std::uint64_t seq, caf::expected<verdict> v) {
  if (!waiting_ || seq != seq_)
    return; // a verdict after its timeout: the timeout already decided
  waiting_ = false;
  deadline_.cancel();
  owner_.on_verdict(topic_, std::move(v));
}

std::function<void(caf::expected<verdict>)>
verdict_client::answer_path(const node_context& ctx, std::uint64_t seq,
                            std::weak_ptr<void> alive) {
  // Only plain values, the loop handle and a weak reference cross into the
  // actors: nothing Asio lives in a CAF callback.
  return
      [loop = ctx.loop, alive = std::move(alive), this, seq](caf::expected<verdict> v) {
        loop->post([alive, this, seq, v = std::move(v)]() mutable {
          if (auto keep = alive.lock())
            take(seq, std::move(v));
        });
      };
}

void verdict_client::ask_gate(const node_context& ctx, lifecycle_event ev, topic t,
                              std::weak_ptr<void> alive) {
  auto seq = begin(ctx, t, alive);
  ctx.to_gate->ask(std::move(ev), answer_path(ctx, seq, std::move(alive)));
}

void verdict_client::ask_rate_limiter(const node_context& ctx, protocol_message msg,
                                      std::weak_ptr<void> alive) {
  auto seq = begin(ctx, topic::message, alive);
  auto back = answer_path(ctx, seq, std::move(alive));
  auto dest = ctx.actors.rate_limiter;
  caf::anon_send(ctx.bridge,
                 bridge_job{[dest, msg = std::move(msg), back](bridge_self self) mutable {
                   // No timeout here (the deadline is ours); a limiter that is
                   // gone fails the ask at once.
                   auto id = expect(self, caf::actor_cast<caf::actor_addr>(dest), back);
                   if (id)
                     self->send(dest, oneway<protocol_message>{
                                          *id, caf::actor_cast<verdict_listener>(self),
                                          std::move(msg)});
                 }});
}

} // namespace rcmgr::net
