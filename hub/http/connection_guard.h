// Bounds on what HTTP clients can hold of the server (issue 12): a cap on open connections in
// total and per client address, enforced at accept time, where the excess is answered
// "503 Service Unavailable" and closed at once instead of queuing; and a deadline for reading each
// request (headers and body), after which a watchdog shuts the connection's read side so that
// the thread serving it is freed (a slow client can no longer hold a thread for ever).
// Thread-safety: all members are internally locked. The deadline of the current connection is
// reached from the serving thread through the free functions below (a thread-local), so route
// handlers need no handle to it.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace carehub::http {

struct ConnectionLimits {
  int max_connections = 256;  // open connections (served + waiting for a thread)
  int max_per_address = 8;    // open connections from one client IP address
  std::chrono::milliseconds request_timeout{10000};  // to read one request's headers and body
  std::chrono::milliseconds idle_timeout{2000};      // between requests of a kept-alive connection
  // An upload may take longer than request_timeout: it gets its Content-Length at this rate too.
  std::uint64_t min_upload_bytes_per_second = 1 << 20;
  bool answer_refused = true;  // write a 503 before closing a refused connection (not over TLS)
};

class ConnectionGuard {
 public:
  explicit ConnectionGuard(ConnectionLimits limits);
  ~ConnectionGuard();  // stops the watchdog
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // The accept-time filter for Poco's TCPServer (counts the connection, or refuses it).
  Poco::Net::TCPServerConnectionFilter::Ptr Filter();
  // Makes the connections: Poco's HTTPServerConnection under a deadline, uncounted at the end.
  Poco::Net::TCPServerConnectionFactory::Ptr ConnectionFactory(
      Poco::Net::HTTPServerParams::Ptr params,
      Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers);
  // Shuts every open connection (server stop).
  void ShutdownAll();

  std::int64_t refused() const;  // connections refused since start
  int open() const;              // connections counted now
  const ConnectionLimits& limits() const { return limits_; }

  // One served connection as the watchdog sees it (defined in connection_guard.cc).
  struct Watched;
  bool Admit(const std::string& address);  // counts it, or false when a cap is reached
  void Release(const std::string& address);
  void Register(Watched& watched);
  void Arm(Watched& watched, std::chrono::steady_clock::time_point deadline);
  void Disarm(Watched& watched);
  void Forget(Watched& watched);

 private:
  void WatchdogLoop();

  const ConnectionLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, int> per_address_;
  int open_ = 0;
  std::int64_t refused_ = 0;
  std::map<Watched*, std::chrono::steady_clock::time_point> watched_;  // armed deadlines
  std::set<Watched*> all_;  // every connection being served
  bool stopping_ = false;
  std::thread watchdog_;
};

// True when the serving thread's request was cut by the deadline (what Poco read of it is
// partial: answer 408, never act on it).
bool RequestExpired();
// Called by route handlers on the serving thread: the request's headers are read and its body
// is `body_bytes` long (chunked: unknown, 0); the deadline now covers the body at the minimum
// upload rate.
void RequestHeadersRead(std::uint64_t body_bytes);
// The request body has been read whole: what the handler does next is not under the deadline.
void RequestBodyRead();
// The response is sent: the connection may wait idle_timeout for the next request.
void ResponseSent();

}  // namespace carehub::http
