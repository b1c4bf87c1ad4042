#include "hub/http/connection_guard.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace carehub::http {

using Clock = std::chrono::steady_clock;

struct ConnectionGuard::Watched {
  Poco::Net::StreamSocket socket;
  ConnectionGuard& guard;
  Clock::time_point request_start;
  std::atomic<bool> expired{false};  // the watchdog shut the read side at the deadline
};

namespace {

// The connection served by this thread (set for the duration of GuardedConnection::run).
thread_local ConnectionGuard::Watched* t_current = nullptr;

std::string RawResponse(const std::string& status_line, const std::string& message) {
  const std::string body = R"({"error":{"status":)" + status_line.substr(0, 3) +
                           R"(,"code":"unavailable","message":")" + message + R"("}})";
  return "HTTP/1.1 " + status_line +
         "\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
         "Cache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Answers a refused connection without waiting: read what already arrived (so that closing
// does not reset the connection before the client reads the answer), write the 503, close.
void AnswerRefused(const Poco::Net::StreamSocket& accepted) {
  static const std::string kAnswer =
      RawResponse("503 Service Unavailable", "too many connections; retry later");
  try {
    Poco::Net::StreamSocket socket(accepted);
    char buffer[4096];
    for (int i = 0; i < 4; ++i) {
      const ssize_t n = ::recv(socket.impl()->sockfd(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) break;
    }
    ::send(socket.impl()->sockfd(), kAnswer.data(), kAnswer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(socket.impl()->sockfd(), SHUT_WR);
  } catch (const std::exception&) {
  }
}

class GuardFilter : public Poco::Net::TCPServerConnectionFilter {
 public:
  explicit GuardFilter(ConnectionGuard& guard) : guard_(guard) {}
  bool accept(const Poco::Net::StreamSocket& socket) override {
    std::string address;
    try {
      address = socket.peerAddress().host().toString();
    } catch (const Poco::Exception&) {
      return false;  // already gone
    }
    if (guard_.Admit(address)) return true;
    if (guard_.limits().answer_refused) AnswerRefused(socket);
    return false;
  }

 private:
  ConnectionGuard& guard_;
};

// Poco's HTTP connection (the keep-alive request loop) under the guard's deadline; uncounts
// the connection when it ends.
class GuardedConnection : public Poco::Net::TCPServerConnection {
 public:
  GuardedConnection(const Poco::Net::StreamSocket& socket, ConnectionGuard& guard,
                    Poco::Net::HTTPServerParams::Ptr params,
                    Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers)
      : TCPServerConnection(socket), guard_(guard), inner_(socket, params, handlers) {
    try {
      address_ = socket.peerAddress().host().toString();
    } catch (const Poco::Exception&) {
      address_.clear();
    }
  }
  ~GuardedConnection() override { guard_.Release(address_); }

  void run() override {
    ConnectionGuard::Watched watched{socket(), guard_, Clock::now()};
    guard_.Register(watched);
    guard_.Arm(watched, watched.request_start + guard_.limits().request_timeout);
    t_current = &watched;
    // Poco closes the socket when a request head fails to parse; a second descriptor of it lets
    // us still answer that.
    const int spare = ::dup(socket().impl()->sockfd());
    try {
      inner_.run();
    } catch (const Poco::SyntaxException&) {
      // Thrown while Poco parsed the request head (a Content-Length that is no number):
      // nothing was answered yet.
      AnswerBadRequest(spare);
    } catch (const std::exception&) {
      // Timeouts, resets, shut read sides: the connection ends, nothing to answer.
    }
    if (spare >= 0) ::close(spare);
    t_current = nullptr;
    guard_.Forget(watched);
  }

 private:
  static void AnswerBadRequest(int fd) {
    static const std::string kAnswer = [] {
      std::string r = RawResponse("400 Bad Request", "malformed request head");
      const auto code = r.find("unavailable");
      return r.replace(code, 11, "bad_request");
    }();
    if (fd >= 0) ::send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
  }

  ConnectionGuard& guard_;
  Poco::Net::HTTPServerConnection inner_;
  std::string address_;
};

class GuardedConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  GuardedConnectionFactory(ConnectionGuard& guard, Poco::Net::HTTPServerParams::Ptr params,
                           Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers)
      : guard_(guard), params_(std::move(params)), handlers_(std::move(handlers)) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new GuardedConnection(socket, guard_, params_, handlers_);
  }

 private:
  ConnectionGuard& guard_;
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers_;
};

void ShutdownReceive(Poco::Net::StreamSocket& socket) {
  // Wakes the serving thread's blocked read with end-of-file; its answer can still be written.
  ::shutdown(socket.impl()->sockfd(), SHUT_RD);
}

}  // namespace

ConnectionGuard::ConnectionGuard(ConnectionLimits limits) : limits_(limits) {
  watchdog_ = std::thread([this] { WatchdogLoop(); });
}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
}

Poco::Net::TCPServerConnectionFilter::Ptr ConnectionGuard::Filter() {
  return new GuardFilter(*this);
}

Poco::Net::TCPServerConnectionFactory::Ptr ConnectionGuard::ConnectionFactory(
    Poco::Net::HTTPServerParams::Ptr params,
    Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers) {
  return new GuardedConnectionFactory(*this, std::move(params), std::move(handlers));
}

bool ConnectionGuard::Admit(const std::string& address) {
  std::lock_guard lock(mutex_);
  int& from_address = per_address_[address];
  if (open_ >= limits_.max_connections || from_address >= limits_.max_per_address) {
    if (from_address == 0) per_address_.erase(address);
    ++refused_;
    return false;
  }
  ++from_address;
  ++open_;
  return true;
}

void ConnectionGuard::Release(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second <= 0) per_address_.erase(it);
  --open_;
}

void ConnectionGuard::Register(Watched& watched) {
  std::lock_guard lock(mutex_);
  all_.insert(&watched);
}

void ConnectionGuard::Arm(Watched& watched, Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    watched_[&watched] = deadline;
  }
  wake_.notify_all();
}

void ConnectionGuard::Disarm(Watched& watched) {
  std::lock_guard lock(mutex_);
  watched_.erase(&watched);
}

void ConnectionGuard::Forget(Watched& watched) {
  std::lock_guard lock(mutex_);
  watched_.erase(&watched);
  all_.erase(&watched);
}

void ConnectionGuard::ShutdownAll() {
  std::lock_guard lock(mutex_);
  for (Watched* watched : all_) {
    ShutdownReceive(watched->socket);
  }
}

std::int64_t ConnectionGuard::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

int ConnectionGuard::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void ConnectionGuard::WatchdogLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (it->second <= now) {
        it->first->expired = true;
        ShutdownReceive(it->first->socket);
        it = watched_.erase(it);
      } else {
        next = std::min(next, it->second);
        ++it;
      }
    }
    wake_.wait_until(lock, next);
  }
}

void RequestHeadersRead(std::uint64_t body_bytes) {
  ConnectionGuard::Watched* watched = t_current;
  if (!watched) return;
  if (body_bytes == 0) {
    watched->guard.Disarm(*watched);
    return;
  }
  const auto& limits = watched->guard.limits();
  const auto allowance = std::chrono::milliseconds(
      body_bytes * 1000 / std::max<std::uint64_t>(1, limits.min_upload_bytes_per_second));
  watched->guard.Arm(*watched, watched->request_start + limits.request_timeout + allowance);
}

bool RequestExpired() { return t_current && t_current->expired; }

void RequestBodyRead() {
  if (t_current) t_current->guard.Disarm(*t_current);
}

void ResponseSent() {
  ConnectionGuard::Watched* watched = t_current;
  if (!watched) return;
  const auto& limits = watched->guard.limits();
  watched->request_start = Clock::now() + limits.idle_timeout;
  watched->guard.Arm(*watched, watched->request_start + limits.request_timeout);
}

}  // namespace carehub::http
