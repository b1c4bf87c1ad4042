#include "cli/child_process.h"

#include <Poco/Exception.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "schemas/error.h"

namespace carehub::cli {

std::string SelfExecutable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

ChildResult RunCarehub(const std::vector<std::string>& args, bool check) {
  Poco::Pipe out_pipe;
  Poco::Pipe err_pipe;
  Poco::Process::Args poco_args(args.begin(), args.end());
  ChildResult result;
  try {
    Poco::ProcessHandle handle =
        Poco::Process::launch(SelfExecutable(), poco_args, nullptr, &out_pipe, &err_pipe);
    // Drain stderr on another thread so a chatty child cannot block on a full pipe.
    auto err_reader = std::async(std::launch::async, [&err_pipe] {
      Poco::PipeInputStream stream(err_pipe);
      std::string text;
      Poco::StreamCopier::copyToString(stream, text);
      return text;
    });
    Poco::PipeInputStream out_stream(out_pipe);
    Poco::StreamCopier::copyToString(out_stream, result.out);
    result.err = err_reader.get();
    result.exit_code = handle.wait();
  } catch (const Poco::Exception& e) {
    throw Error::IoError("cannot run carehub " + (args.empty() ? "" : args[0]) + ": " +
                         e.displayText());
  }
  if (check && result.exit_code != 0) {
    std::string command = "carehub";
    for (const auto& arg : args) command += " " + arg;
    throw Error::IoError(command + " exited with " + std::to_string(result.exit_code) + ": " +
                         result.err);
  }
  return result;
}

std::vector<ChildResult> RunCarehubAll(const std::vector<std::vector<std::string>>& commands) {
  const std::size_t at_once = std::max(1u, std::thread::hardware_concurrency());
  std::vector<ChildResult> results;
  for (std::size_t first = 0; first < commands.size(); first += at_once) {
    std::vector<std::future<ChildResult>> running;
    for (std::size_t i = first; i < std::min(first + at_once, commands.size()); ++i) {
      running.push_back(
          std::async(std::launch::async, [&commands, i] { return RunCarehub(commands[i]); }));
    }
    for (auto& result : running) results.push_back(result.get());
  }
  return results;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& args,
                                     const std::string& log_path)
    : log_path_(log_path) {
  const std::string self = SelfExecutable();
  std::vector<std::string> argv_storage;
  argv_storage.push_back(self);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw Error::IoError("cannot open log " + log_path);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw Error::IoError("fork failed");
  }
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execv(self.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
}

BackgroundProcess::~BackgroundProcess() { Stop(); }

bool BackgroundProcess::running() const {
  if (stopped_ || exited_) return false;
  if (::waitpid(pid_, &wait_status_, WNOHANG) != 0) exited_ = true;
  return !exited_;
}

std::string BackgroundProcess::Ended(int lines) const {
  std::string how = "still running";
  if (exited_ && WIFEXITED(wait_status_))
    how = "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
  if (exited_ && WIFSIGNALED(wait_status_))
    how = "killed by signal " + std::to_string(WTERMSIG(wait_status_));
  std::ifstream log(log_path_);
  std::deque<std::string> tail;
  for (std::string line; std::getline(log, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out = how + "; the end of " + log_path_ + ":";
  for (const std::string& line : tail) out += "\n  " + line;
  return out;
}

void BackgroundProcess::Stop(int grace_ms) {
  if (stopped_) return;
  stopped_ = true;
  if (exited_) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace carehub::cli
