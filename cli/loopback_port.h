// Loopback ports for processes that bind them later: `carehub demo` picks each hub's ZeroMQ
// and HTTP port before the ingest and its `carehub serve` binds them seconds to minutes after.
// Contract: FreeLoopbackPort returns a port on 127.0.0.1 that nothing listened on when it was
// picked, below the kernel's ephemeral range where possible (so no outgoing connection takes
// it meanwhile), never the same port twice in one process. Not thread-safe.
#pragma once

namespace carehub::cli {

int FreeLoopbackPort();

}  // namespace carehub::cli
