// Keeps the nodes of a node-based map's erased entries for its next inserts,
// so that a steady churn (a stream opened and closed for each one closed)
// allocates nothing. At most `max_spare` nodes are kept: the memory it holds
// beyond the map's own is bounded.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace rcmgr {

template <class Map, std::size_t max_spare = 1024> class node_recycler {
public:
  /// Inserts (key, value), which must not be in `m` yet, in a spare node if
  /// there is one. Returns where.
  template <class Value>
  typename Map::iterator insert(Map& m, const typename Map::key_type& key,
                                Value&& value) {
    if (spare_.empty())
      return m.emplace(key, std::forward<Value>(value)).first;
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = key;
    node.mapped() = std::forward<Value>(value);
    return m.insert(std::move(node)).position;
  }

  /// Inserts `key`, which must not be in `m` yet, with a spare node's value
  /// passed through `reuse` first (it resets the value, keeping what it
  /// wants of it), or else with a new default value. Returns where.
  template <class Reuse>
  typename Map::iterator insert_reusing(Map& m, const typename Map::key_type& key,
                                        Reuse&& reuse) {
    if (spare_.empty())
      return m.emplace(key, typename Map::mapped_type{}).first;
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = key;
    reuse(node.mapped());
    return m.insert(std::move(node)).position;
  }

  /// Erases the entry at `i`, keeping its node while fewer than `max_spare`
  /// are kept.
  void erase(Map& m, typename Map::iterator i) {
    if (spare_.size() >= max_spare) {
      m.erase(i);
      return;
    }
    if (spare_.capacity() == 0)
      spare_.reserve(max_spare);
    spare_.push_back(m.extract(i));
  }

  std::size_t spare() const { return spare_.size(); }

private:
  std::vector<typename Map::node_type> spare_;
};

} // namespace rcmgr
