#include "hub/publish_suppress.h"

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
  bool changed = true;
  while (changed) {
    changed = false;
    for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
      while (Protect(i)) changed = true;
    }
  }
}

}  // namespace carehub
