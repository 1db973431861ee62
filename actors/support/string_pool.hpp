// Interned strings with reference counts. Plain C++, no CAF.
//
// Thousands of connections share one peer id (52 characters for a libp2p
// Ed25519 id) or one listen address. A core that keeps a copy per connection
// pays a heap block per connection for text it already has; with the pool it
// keeps a 4-byte handle and the text once.
//
// Each live text may carry a value of type T (e.g. a peer's connection
// counts), so a core needs one lookup per event, not a pool lookup and then a
// map lookup by handle. The value is reset when the text is freed.
//
// A text is hashed once, when it is acquired: its slot keeps the hash for the
// release. With many peers each with few connections, nearly every
// connection brings a new peer id and takes its last one away; the
// characters and the index entries of freed texts serve the next new ones
// (at most `max_spare` of each are kept), so that churn allocates nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/support/node_recycler.hpp"

namespace rcmgr {

struct no_value {};

template <class T = no_value> class basic_string_pool {
public:
  using handle = std::uint32_t;

  /// The empty string: always present, never counted, never freed.
  static constexpr handle empty = 0;

  /// At most this many freed texts' characters (and index entries) are kept
  /// for new texts.
  static constexpr std::size_t max_spare = 1024;
  /// Longer characters are not kept: a spare is for a peer id or an address.
  static constexpr std::size_t max_spare_chars = 128;

  basic_string_pool() { slots_.emplace_back(); }
  basic_string_pool(const basic_string_pool&) = delete;
  basic_string_pool& operator=(const basic_string_pool&) = delete;

  /// The handle of `text`, with one more reference to it.
  handle acquire(std::string_view text) {
    if (text.empty())
      return empty;
    auto hash = std::hash<std::string_view>{}(text);
    if (auto i = index_.find(key{text, hash}); i != index_.end()) {
      ++slots_[i->second].refs;
      return i->second;
    }
    handle h;
    if (!free_.empty()) {
      h = free_.back();
      free_.pop_back();
    } else {
      if (slots_.size() > UINT32_MAX)
        throw std::length_error("string_pool: more than 2^32 live strings");
      h = static_cast<handle>(slots_.size());
      slots_.emplace_back();
    }
    auto& s = slots_[h];
    if (!spare_chars_.empty()) {
      s.text = std::move(spare_chars_.back());
      spare_chars_.pop_back();
    }
    s.text.assign(text.data(), text.size());
    s.hash = hash;
    s.refs = 1;
    index_nodes_.insert(index_, key{std::string_view{s.text}, hash}, h);
    return h;
  }

  /// One more reference to a live handle.
  void retain(handle h) {
    if (h != empty)
      ++slots_[h].refs;
  }

  /// One reference less; the text is freed with its last reference.
  /// Releasing `empty` or a freed handle does nothing.
  void release(handle h) {
    if (h == empty)
      return;
    auto& s = slots_[h];
    if (s.refs == 0 || --s.refs > 0)
      return;
    index_nodes_.erase(index_, index_.find(key{std::string_view{s.text}, s.hash}));
    // The characters serve a new text, or go back: a freed slot may wait
    // long for reuse.
    if (spare_chars_.size() < max_spare && s.text.capacity() <= max_spare_chars &&
        s.text.capacity() > std::string{}.capacity()) {
      s.text.clear();
      spare_chars_.push_back(std::move(s.text));
    }
    std::string{}.swap(s.text);
    s.value = T{};
    free_.push_back(h);
  }

  const std::string& text(handle h) const { return slots_[h].text; }
  /// The value of a live handle (of `empty` too: one shared value).
  T& value(handle h) { return slots_[h].value; }
  const T& value(handle h) const { return slots_[h].value; }

  /// The handle of `text` if it is live (`empty` for ""), without a reference.
  /// Returns false when the text is not in the pool.
  bool find(std::string_view text, handle& out) const {
    if (text.empty()) {
      out = empty;
      return true;
    }
    auto i = index_.find(key{text, std::hash<std::string_view>{}(text)});
    if (i == index_.end())
      return false;
    out = i->second;
    return true;
  }

  /// Calls `f(handle)` for each live text, `empty` not included, in no order.
  template <class F> void for_each(F&& f) const {
    for (auto& [text, h] : index_)
      f(h);
  }

  /// Live strings, the empty one not counted.
  std::size_t size() const { return index_.size(); }
  std::uint32_t references(handle h) const { return slots_[h].refs; }

private:
  struct slot {
    std::string text;
    std::size_t hash = 0;
    std::uint32_t refs = 0;
    T value{};
  };

  /// A text and its hash (std::hash's, computed once per acquire or find).
  struct key {
    std::string_view text;
    std::size_t hash;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept { return k.hash; }
  };
  struct key_eq {
    bool operator()(const key& a, const key& b) const noexcept {
      return a.hash == b.hash && a.text == b.text;
    }
  };
  using index_map = std::unordered_map<key, handle, key_hash, key_eq>;

  // A deque keeps each slot (and so each text's characters, which the index's
  // keys point into) in place as slots are added.
  std::deque<slot> slots_;
  std::vector<handle> free_;
  index_map index_;
  node_recycler<index_map, max_spare> index_nodes_;
  std::vector<std::string> spare_chars_;
};

/// A pool of texts alone; its handle type and `empty` are every pool's.
using string_pool = basic_string_pool<>;

} // namespace rcmgr
