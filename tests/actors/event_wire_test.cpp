// The events' texts are inline_text; across the middleman they are strings.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/events.hpp"

using namespace rcmgr;

namespace {

/// established_inbound as it was with std::string fields: the wire form the
/// inline texts must keep.
struct established_inbound_strings {
  connection_id conn = 0;
  std::string peer;
  std::string local;
  std::string remote;
  bool usefd = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, established_inbound_strings& x) {
  return f(caf::meta::type_name("established_inbound"), x.conn, x.peer, x.local, x.remote,
           x.usefd);
}

} // namespace

TEST_CASE("an event with inline texts has the wire form of strings, short or long") {
  const std::string peer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
  const std::string remote = "/ip6/2001:db8::1/tcp/4001/p2p/" + peer; // 82 bytes: heap
  established_inbound ev{7, peer, "/ip4/10.0.0.1/tcp/4001", remote, false};
  REQUIRE(!ev.peer.on_heap());
  REQUIRE(ev.remote.on_heap());
  std::vector<char> lean, plain;
  caf::execution_unit* no_context = nullptr;
  caf::binary_serializer lean_sink{no_context, lean};
  REQUIRE(!lean_sink(ev));
  caf::binary_serializer plain_sink{no_context, plain};
  REQUIRE(!plain_sink(
      established_inbound_strings{7, peer, "/ip4/10.0.0.1/tcp/4001", remote, false}));
  CHECK(lean == plain);

  established_inbound back;
  caf::binary_deserializer source{no_context, lean};
  REQUIRE(!source(back));
  CHECK(back.conn == 7);
  CHECK(back.peer == peer);
  CHECK(back.local == "/ip4/10.0.0.1/tcp/4001");
  CHECK(back.remote == remote);
  CHECK(!back.usefd);
  CHECK(caf::deep_to_string(back.peer) == "\"" + peer + "\"");
}
