// The allocator setting of a process that runs an Exchange (`carehub serve`, `carehub sync`).
// Its batches travel as frames and buffers of one to several MiB, taken and freed hundreds of
// times a catch-up. glibc raises its mmap threshold (up to 32 MiB) each time a mapped chunk is
// freed, so after the first frame every later one is carved from a heap, and the pages they
// leave free between live chunks stay with the process: a 5M catch-up's RSS crept from ~175 to
// ~192 MB. A fixed threshold (it also fixes the trim threshold) keeps every chunk of 1 MiB or
// more mapped and returned when freed: the same catch-up peaked at ~179 MB, at the same rate
// (docs/PERFORMANCE.md, session 14).
// Contract: called once, at the start of the command, before the Exchange starts its threads.
#pragma once

namespace carehub::cli {

void UseExchangeAllocatorSetting();

}  // namespace carehub::cli
