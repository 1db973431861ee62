#include "actors/dump/dump_merge.hpp"
#include "messages/json.hpp"

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

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(const std::string& t, std::size_t i) {
  while (i < t.size() && is_space(t[i]))
    ++i;
  return i;
}

/// From an opening quote to just past the closing one.
std::size_t skip_string(const std::string& t, std::size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\')
      ++i;
    else if (t[i] == '"')
      return i + 1;
  }
  return t.size();
}

/// From the start of a value to just past its end (valid JSON assumed).
std::size_t skip_value(const std::string& t, std::size_t i) {
  int depth = 0;
  while (i < t.size()) {
    char c = t[i];
    if (c == '"') {
      i = skip_string(t, i);
      if (depth == 0)
        return i;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0)
        return i; // the end of the enclosing object
      if (--depth == 0)
        return i + 1;
    } else if (depth == 0 && (c == ',' || is_space(c))) {
      return i; // the end of a number or a literal
    }
    ++i;
  }
  return i;
}

} // namespace

bool dump_assembler::add(const std::string& text) {
  // Checked first, so that the scan below may assume valid JSON.
  if (!nlohmann::json::accept(text))
    return false;
  auto i = skip_space(text, 0);
  if (i >= text.size() || text[i] != '{')
    return false;
  std::vector<std::pair<std::string, std::string>> found;
  i = skip_space(text, i + 1);
  while (i < text.size() && text[i] != '}') {
    auto key_end = skip_string(text, i);
    auto key = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(i),
                                     text.begin() + static_cast<std::ptrdiff_t>(key_end))
                   .get<std::string>();
    i = skip_space(text, skip_space(text, key_end) + 1); // past ':'
    auto value_end = skip_value(text, i);
    found.emplace_back(std::move(key), text.substr(i, value_end - i));
    i = skip_space(text, value_end);
    if (i < text.size() && text[i] == ',')
      i = skip_space(text, i + 1);
  }
  for (auto& [key, value] : found)
    values_[key].push_back(std::move(value));
  return true;
}

std::string dump_assembler::finish(std::vector<std::string> missing) const {
  std::sort(missing.begin(), missing.end());
  std::map<std::string, std::string> out; // key -> value text, sorted as nlohmann sorts
  for (auto& [key, texts] : values_) {
    if (key == "missing" || key == "schema")
      continue; // finish_dump() sets these
    if (texts.size() == 1 && key != "anomalies") {
      out[key] = texts.front();
      continue;
    }
    nlohmann::json doc = nlohmann::json::object();
    for (auto& t : texts)
      merge_dump_part(doc, nlohmann::json{{key, nlohmann::json::parse(t)}});
    auto& v = doc[key];
    if (key == "anomalies" && v.is_null())
      v = nlohmann::json::object();
    out[key] = dump_text(v);
  }
  for (auto& name : dump_part_names())
    if (out.count(name) == 0)
      out[name] = name == "anomalies" ? "{}" : "null";
  out["missing"] = dump_text(nlohmann::json(missing));
  out["schema"] = "1";
  std::size_t size = 2;
  for (auto& [key, value] : out)
    size += key.size() + value.size() + 4;
  std::string doc;
  doc.reserve(size);
  doc += '{';
  for (auto& [key, value] : out) {
    if (doc.size() > 1)
      doc += ',';
    doc += dump_text(nlohmann::json(key));
    doc += ':';
    doc += value;
  }
  doc += '}';
  return doc;
}

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
