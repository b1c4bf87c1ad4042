// Small-cell suppression for published counts arranged as a tree of additive relations:
// every node with children is published as the sum of its children (e.g. national total ->
// region total -> region x grade -> the detailed cells of that region and grade). Cells with
// 1..threshold-1 are suppressed (primary), then complementary cells until, in every relation,
// the unknowns (suppressed parent and children) are zero or at least two and the suppressed
// children of a published parent sum to more than their number (so none is pinned to 1). In a
// tree each node is in at most two relations, so a perturbation of any suppressed cell can be
// balanced along the tree: no suppressed value follows from the published ones by arithmetic.
// Then an interval audit: every hidden cell is at least 1 (zero cells are not nodes: they are
// published as absent), bounds are propagated through all relations, and wherever a hidden
// cell's interval closes to one value a published sibling (else the parent) is suppressed too,
// repeated with the rules above until no hidden value is determined by bounds either.
// Deterministic: ties go to the lower index. Thread-safety: a value type, one thread at a time.
#pragma once

#include <cstdint>
#include <vector>

namespace carehub {

class SuppressionTree {
 public:
  static constexpr int kNoParent = -1;

  // Adds a node with its count (> 0) under `parent` (an earlier node, or kNoParent).
  int Add(std::int64_t value, int parent);
  // Applies primary then complementary suppression. `threshold` >= 1 (1 suppresses nothing).
  void Suppress(std::int64_t threshold);

  bool suppressed(int node) const { return nodes_[static_cast<std::size_t>(node)].suppressed; }
  std::int64_t value(int node) const { return nodes_[static_cast<std::size_t>(node)].value; }
  std::int64_t primary_count() const { return primary_; }
  std::int64_t secondary_count() const { return secondary_; }
  std::size_t size() const { return nodes_.size(); }

 private:
  struct Node {
    std::int64_t value = 0;
    int parent = kNoParent;
    bool suppressed = false;
    std::vector<int> children;
  };
  // Makes the relation of `parent` safe; returns true when it suppressed something.
  bool Protect(int parent);
  // The interval [lo, hi] of each node an attacker derives from the published counts, every
  // hidden cell being at least 1; hi = kUnbounded when nothing bounds it.
  void Bounds(std::vector<std::int64_t>& lo, std::vector<std::int64_t>& hi) const;
  // Suppresses more where a hidden node's interval is a single value; true when it did.
  bool Unpin();
  static constexpr std::int64_t kUnbounded = std::int64_t{1} << 50;
  std::vector<Node> nodes_;
  std::int64_t primary_ = 0;
  std::int64_t secondary_ = 0;
};

}  // namespace carehub
