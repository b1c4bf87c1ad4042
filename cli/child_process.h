// Running `carehub` subcommands as child processes, for `carehub demo`: the demo drives seven
// real hubs exactly as an operator would, through the same commands and the same processes.
// RunCarehub waits and captures output; BackgroundProcess owns a long-running child (a
// `carehub serve`) and stops it with SIGTERM (then SIGKILL) in its destructor.
// RunCarehub may run on several threads at once (the demo digests its hubs in parallel); a
// BackgroundProcess belongs to one thread.
#pragma once

#include <Poco/Process.h>

#include <memory>
#include <string>
#include <vector>

namespace carehub::cli {

struct ChildResult {
  int exit_code = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Path of the running carehub executable (/proc/self/exe).
std::string SelfExecutable();

// Runs `carehub ARGS...` to completion. Throws carehub::Error (IoError) when it cannot start, and
// (when check is true) when it exits non-zero, quoting its stderr.
ChildResult RunCarehub(const std::vector<std::string>& args, bool check = true);
// Runs each of `commands` (checked) as RunCarehub does, as many at once as there are cores;
// the results in the order given.
std::vector<ChildResult> RunCarehubAll(const std::vector<std::vector<std::string>>& commands);

class BackgroundProcess {
 public:
  // Starts `carehub ARGS...` with stdout and stderr appended to log_path.
  BackgroundProcess(const std::vector<std::string>& args, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool running() const;
  // Why it is no longer running, for an error message: its exit status or signal and the last
  // `lines` lines of its log (a hub that stopped says why there; the demo's temporary directory
  // may be gone by the time anyone looks).
  std::string Ended(int lines = 8) const;
  // SIGTERM, wait up to `grace_ms`, then SIGKILL. Idempotent.
  void Stop(int grace_ms = 5000);

 private:
  Poco::Process::PID pid_ = 0;
  std::string log_path_;
  mutable int wait_status_ = 0;  // waitpid's status once reaped
  bool stopped_ = false;
  mutable bool exited_ = false;  // reaped by running(); never signal a reaped pid
};

}  // namespace carehub::cli
