// Text blocks kept for reuse: plain C++, no CAF.
//
// A source builds a block of trace lines on its thread and the trace actor
// frees it on another after writing it. Freed there, every block (about
// 16 KB) went back to the source thread's malloc arena under that arena's
// lock, and the source allocated a new one; so the trace hands its written
// blocks back to the source, emptied with their capacity, in the answers
// that confirm what it took (trace_actor.hpp), and the source fills them
// again. Bounded in count and in each block's capacity: a pool never holds
// more than `max_count * max_capacity` bytes.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace rcmgr {

class block_pool {
public:
  static constexpr std::size_t default_max_count = 128;
  static constexpr std::size_t default_max_capacity = 64 << 10;

  explicit block_pool(std::size_t max_count = default_max_count,
                      std::size_t max_capacity = default_max_capacity)
      : max_count_(max_count), max_capacity_(max_capacity) {}

  /// An empty block with room for at least `bytes`: a kept one if there is
  /// one, else a new one.
  std::string take(std::size_t bytes) {
    std::string s; // a kept one is empty already (give)
    if (!free_.empty()) {
      s = std::move(free_.back());
      free_.pop_back();
    }
    s.reserve(bytes);
    return s;
  }

  /// Keeps `s` emptied, unless the pool is full or `s` is too large to keep
  /// (or too small to be worth it); otherwise it is freed here.
  void give(std::string&& s) {
    if (free_.size() >= max_count_ || s.capacity() > max_capacity_ ||
        s.capacity() < min_capacity)
      return;
    s.clear();
    free_.push_back(std::move(s));
  }

  void give_all(std::vector<std::string>&& xs) {
    for (auto& x : xs)
      give(std::move(x));
  }

  /// Up to `n` kept blocks, handed over (to the source they came from).
  std::vector<std::string> take_up_to(std::size_t n) {
    std::vector<std::string> out;
    n = n < free_.size() ? n : free_.size();
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      out.push_back(std::move(free_.back()));
      free_.pop_back();
    }
    return out;
  }

  std::size_t size() const { return free_.size(); }
  std::size_t max_count() const { return max_count_; }

  /// A block smaller than this is not kept: a single line's string is
  /// cheaper to free than to send back.
  static constexpr std::size_t min_capacity = 1024;

private:
  std::size_t max_count_;
  std::size_t max_capacity_;
  std::vector<std::string> free_;
};

/// Where a source writes a batch's lines before they go into a block.
///
/// A kept block was last read on the trace actor's CPU (by the write to the
/// file), so its memory is cold on the source's: appending the lines one by
/// one into it waited on that memory line after line. The scratch is the
/// same few KB every batch and stays in the source's cache; the lines are
/// formatted there and reach the block in one sequential copy. (rcmgr-bench's
/// trace_batched_ratio, eight runs a side alternated: median 0.77 -> 0.84.)
class scratch_block {
public:
  explicit scratch_block(std::size_t max_kept = block_pool::default_max_capacity)
      : max_kept_(max_kept) {}

  /// The scratch, emptied, with room for `bytes` (at most `max_kept`: a
  /// batch whose lines need more grows it as it writes them).
  std::string& start(std::size_t bytes) {
    text_.clear();
    text_.reserve(bytes < max_kept_ ? bytes : max_kept_);
    return text_;
  }

  /// A block of `pool` (or a new one) holding what was written since start.
  /// The scratch keeps its room for the next batch, unless a large batch
  /// grew it past `max_kept`: then it is freed, so that one such batch does
  /// not hold memory for the life of the source.
  std::string finish(block_pool& pool) {
    auto block = pool.take(text_.size());
    block.append(text_);
    if (text_.capacity() > max_kept_)
      std::string{}.swap(text_);
    return block;
  }

  std::size_t capacity() const { return text_.capacity(); }

private:
  std::size_t max_kept_;
  std::string text_;
};

} // namespace rcmgr
