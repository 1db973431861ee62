#include "actors/dump_merge.hpp"

#include <algorithm>

namespace rcmgr {

namespace {

void merge_into(nlohmann::json& dst, const nlohmann::json& src, bool add_numbers) {
  if (!dst.is_object() || !src.is_object()) {
    if (add_numbers && dst.is_number_unsigned() && src.is_number_unsigned())
      dst = dst.get<std::uint64_t>() + src.get<std::uint64_t>();
    else
      dst = src;
    return;
  }
  for (auto& [key, value] : src.items()) {
    if (dst.contains(key))
      merge_into(dst[key], value, add_numbers);
    else
      dst[key] = value;
  }
}

} // namespace

void merge_dump_part(nlohmann::json& doc, const nlohmann::json& part) {
  if (!part.is_object())
    return;
  for (auto& [key, value] : part.items()) {
    if (!doc.contains(key) || doc[key].is_null())
      doc[key] = value;
    else
      merge_into(doc[key], value, key == "anomalies");
  }
}

nlohmann::json finish_dump(nlohmann::json doc, std::vector<std::string> missing) {
  if (!doc.is_object())
    doc = nlohmann::json::object();
  for (auto& name : dump_part_names())
    if (!doc.contains(name))
      doc[name] = nullptr;
  if (doc["anomalies"].is_null())
    doc["anomalies"] = nlohmann::json::object();
  std::sort(missing.begin(), missing.end());
  doc["missing"] = missing;
  doc["schema"] = 1;
  return doc;
}

} // namespace rcmgr
