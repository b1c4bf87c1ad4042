#include "cli/exchange_memory.h"

#include <malloc.h>

#include <cstddef>

namespace carehub::cli {
namespace {

constexpr std::size_t kMmapThreshold = std::size_t{1} << 20;

}  // namespace

void UseExchangeAllocatorSetting() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold));
#endif
}

}  // namespace carehub::cli
