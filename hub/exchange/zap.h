// A ZeroMQ ZAP handler (RFC 27) for CURVE: a thread with a REP socket on
// inproc://zeromq.zap.01 of the given context that admits a client only when its CURVE public
// key belongs to a federation member; the member's name becomes the connection's User-Id (read
// with zmq_msg_gets(msg, "User-Id")), so logs name the peer. The member set can be replaced
// while running (peers added while serving). Thread-safety: SetMembers may be called from any
// thread; the handler thread is joined by Stop / the destructor.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace carehub {

class ZapHandler {
 public:
  // `on_denied` is called (from the handler thread) with the Z85 key and address of a refused
  // client.
  ZapHandler(zmq::context_t& context,
             std::function<void(const std::string&, const std::string&)> on_denied = {});
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Z85 CURVE key -> member name.
  void SetMembers(std::map<std::string, std::string> members);
  void Stop();

 private:
  void Loop();
  zmq::socket_t socket_;
  std::function<void(const std::string&, const std::string&)> on_denied_;
  std::mutex mutex_;
  std::map<std::string, std::string> members_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace carehub
