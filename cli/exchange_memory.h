// The allocator setting of `carehub sync`, the command that applies a member's log in bulk
// (millions of records in one run). Its batches travel as frames and buffers of a few MiB, taken
// and freed hundreds of times. glibc raises its mmap threshold (up to 32 MiB) each time a mapped
// chunk is freed, so after the first frame every later one is carved from a heap, and the pages
// they leave free between live chunks stay with the process: a 5M catch-up's RSS crept from ~175
// to ~192 MB. A fixed threshold (it also fixes the trim threshold) keeps every chunk of 1 MiB or
// more mapped and returned when freed: the same catch-up stayed within 170-183 MB. The price is
// the pages faulted in again for each such buffer (B's system time +0.15-0.3 s per million).
// `carehub serve` keeps glibc's default: with the setting, the serving side of a catch-up spent
// ~40% more CPU (A: 1.0-1.1 -> 1.4-1.5 s per million), and its memory is not what grows
// (docs/PERFORMANCE.md, session 14).
// Contract: called once, at the start of the command, before the Exchange starts its threads.
#pragma once

namespace carehub::cli {

void UseExchangeAllocatorSetting();

}  // namespace carehub::cli
