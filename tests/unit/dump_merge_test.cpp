// Joining dump parts: the text assembler gives exactly what merging the
// parsed parts and dumping the document gives.
#include <doctest/doctest.h>

#include "actors/dump/dump_merge.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

/// The reference: parse, merge, finish, dump.
std::string by_dom(const std::vector<std::string>& parts,
                   std::vector<std::string> missing) {
  json doc = json::object();
  for (auto& p : parts) {
    auto part = json::parse(p, nullptr, false);
    if (part.is_object())
      merge_dump_part(doc, part);
  }
  return finish_dump(doc, std::move(missing)).dump();
}

std::string by_text(const std::vector<std::string>& parts,
                    std::vector<std::string> missing) {
  dump_assembler a;
  for (auto& p : parts)
    a.add(p);
  return a.finish(std::move(missing));
}

} // namespace

TEST_CASE("the text assembler joins parts exactly like the merged document") {
  std::vector<std::string> pretty{
      R"({"limits": {"config": {"max": 3}, "denials": {}}, "memory": {"rss": 12.5},
          "anomalies": {"unknown_connection": 2, "x": 1}})",
      R"({"connections":{"list":[{"conn":1,"remote":["a:1","b,}]\"2"]}],"total":1,"s":"}"},
          "anomalies":{"unknown_connection":3}})",
      R"({"watcher": null, "rate_limits": {"protocols": {"/echo/1": {"allowed": 5}}},
          "k\"ey\u00e9": [true, false, null, -1.5e3, "x"], "schema": 7, "missing": ["z"]})",
      R"({"watcher": {"watched": 0}})"};
  // Parts as the actors write them (nlohmann's compact dump): the same bytes.
  std::vector<std::string> parts;
  for (auto& p : pretty)
    parts.push_back(json::parse(p).dump());
  auto text = by_text(parts, {"tracker", "gate"});
  CHECK(text == by_dom(parts, {"tracker", "gate"}));
  // Parts written otherwise: values are copied as they came, so the bytes
  // differ, but the document means the same.
  CHECK(json::parse(by_text(pretty, {"tracker", "gate"})) == json::parse(text));
  auto doc = json::parse(text);
  CHECK(doc["anomalies"] == json{{"unknown_connection", 5}, {"x", 1}});
  CHECK(doc["missing"] == json{"gate", "tracker"});
  CHECK(doc["schema"] == 1);
  CHECK(doc["watcher"] == json{{"watched", 0}});
  CHECK(doc["connections"]["list"][0]["remote"][1] == "b,}]\"2");
  CHECK(doc["k\"ey\u00e9"].size() == 5);
}

TEST_CASE("a part that is not a JSON object is refused whole") {
  dump_assembler a;
  CHECK_FALSE(a.add(R"({"limits": {"config": )"));
  CHECK_FALSE(a.add("[1, 2]"));
  CHECK_FALSE(a.add(""));
  CHECK_FALSE(a.add(R"({"a": 1} trailing)"));
  CHECK(a.add(R"(  {"limits": {"n": 1}}  )"));
  CHECK(a.add("{}"));
  auto doc = json::parse(a.finish({}));
  CHECK(doc["limits"] == json{{"n", 1}});
  CHECK(doc["connections"].is_null());
  CHECK(doc["anomalies"] == json::object());
  // Nothing at all: every part null, anomalies empty.
  CHECK(dump_assembler{}.finish({"gate"}) == by_dom({}, {"gate"}));
}
