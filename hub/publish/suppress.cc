#include "hub/publish/suppress.h"

#include <algorithm>

#include "schemas/error.h"

namespace carehub {

int SuppressionTree::Add(std::int64_t value, int parent) {
  if (value <= 0) throw Error::InvalidInput("suppression tree: cells must be positive");
  if (parent != kNoParent && (parent < 0 || parent >= static_cast<int>(nodes_.size()))) {
    throw Error::InvalidInput("suppression tree: unknown parent");
  }
  const int index = static_cast<int>(nodes_.size());
  nodes_.push_back({value, parent, false, {}});
  if (parent != kNoParent) nodes_[static_cast<std::size_t>(parent)].children.push_back(index);
  return index;
}

bool SuppressionTree::Protect(int parent) {
  Node& p = nodes_[static_cast<std::size_t>(parent)];
  if (p.children.empty()) return false;
  int unknowns = p.suppressed ? 1 : 0;
  int suppressed_children = 0;
  std::int64_t suppressed_sum = 0;
  int smallest = -1;  // the published child with the smallest count
  for (int c : p.children) {
    const Node& child = nodes_[static_cast<std::size_t>(c)];
    if (child.suppressed) {
      ++unknowns;
      ++suppressed_children;
      suppressed_sum += child.value;
    } else if (smallest < 0 || child.value < nodes_[static_cast<std::size_t>(smallest)].value) {
      smallest = c;
    }
  }
  const bool single = unknowns == 1;
  // A published parent with suppressed children all equal to 1 would reveal them.
  const bool pinned =
      !p.suppressed && suppressed_children >= 2 && suppressed_sum <= suppressed_children;
  if (!single && !pinned) return false;
  if (smallest >= 0) {
    nodes_[static_cast<std::size_t>(smallest)].suppressed = true;
  } else if (!p.suppressed) {
    p.suppressed = true;  // every child is hidden already: hide their sum too
  } else {
    return false;  // parent and its only child both hidden: the parent's relation protects it
  }
  ++secondary_;
  return true;
}

void SuppressionTree::Suppress(std::int64_t threshold) {
  for (Node& n : nodes_) {
    if (n.value < threshold) {
      n.suppressed = true;
      ++primary_;
    }
  }
  // Suppression only grows, so this reaches a fixed point.
  do {
    bool changed = true;
    while (changed) {
      changed = false;
      for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
        while (Protect(i)) changed = true;
      }
    }
  } while (Unpin());
}

void SuppressionTree::Bounds(std::vector<std::int64_t>& lo, std::vector<std::int64_t>& hi) const {
  const std::size_t n = nodes_.size();
  lo.assign(n, 1);
  hi.assign(n, kUnbounded);
  for (std::size_t i = 0; i < n; ++i) {
    if (!nodes_[i].suppressed) lo[i] = hi[i] = nodes_[i].value;
  }
  // On a tree, sweeps up and down settle the bounds in a few rounds; the cap only guards.
  for (int sweep = 0; sweep < 64; ++sweep) {
    bool changed = false;
    auto narrow = [&](std::size_t i, std::int64_t new_lo, std::int64_t new_hi) {
      if (new_lo > lo[i]) {
        lo[i] = new_lo;
        changed = true;
      }
      if (new_hi < hi[i]) {
        hi[i] = new_hi;
        changed = true;
      }
    };
    for (std::size_t step = 0; step < n; ++step) {
      const std::size_t p = sweep % 2 == 0 ? n - 1 - step : step;  // children first, then parents
      const Node& parent = nodes_[p];
      if (parent.children.empty()) continue;
      std::int64_t sum_lo = 0;
      std::int64_t sum_hi = 0;
      for (int c : parent.children) {
        sum_lo += lo[static_cast<std::size_t>(c)];
        sum_hi = std::min(kUnbounded, sum_hi + hi[static_cast<std::size_t>(c)]);
      }
      narrow(p, sum_lo, sum_hi);
      for (int c : parent.children) {
        const auto ci = static_cast<std::size_t>(c);
        const std::int64_t others_lo = sum_lo - lo[ci];
        const bool others_unbounded = sum_hi >= kUnbounded || hi[ci] >= kUnbounded;
        const std::int64_t new_lo = others_unbounded ? lo[ci] : lo[p] - (sum_hi - hi[ci]);
        const std::int64_t new_hi = hi[p] >= kUnbounded ? kUnbounded : hi[p] - others_lo;
        narrow(ci, new_lo, new_hi);
      }
    }
    if (!changed) break;
  }
}

bool SuppressionTree::Unpin() {
  std::vector<std::int64_t> lo, hi;
  Bounds(lo, hi);
  std::vector<bool> widened(nodes_.size(), false);  // one more hidden cell per relation a round
  bool any = false;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].suppressed || lo[i] != hi[i]) continue;
    // Hide the smallest published sibling, else the parent; up the tree while neither exists.
    int x = static_cast<int>(i);
    while (nodes_[static_cast<std::size_t>(x)].parent != kNoParent) {
      const int p = nodes_[static_cast<std::size_t>(x)].parent;
      Node& parent = nodes_[static_cast<std::size_t>(p)];
      if (widened[static_cast<std::size_t>(p)]) break;
      int smallest = -1;
      for (int c : parent.children) {
        const Node& child = nodes_[static_cast<std::size_t>(c)];
        if (!child.suppressed &&
            (smallest < 0 || child.value < nodes_[static_cast<std::size_t>(smallest)].value)) {
          smallest = c;
        }
      }
      if (smallest >= 0) {
        nodes_[static_cast<std::size_t>(smallest)].suppressed = true;
      } else if (!parent.suppressed) {
        parent.suppressed = true;
      } else {
        x = p;
        continue;
      }
      widened[static_cast<std::size_t>(p)] = true;
      ++secondary_;
      any = true;
      break;
    }
  }
  return any;
}

}  // namespace carehub
