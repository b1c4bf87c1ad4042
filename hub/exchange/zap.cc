#include "hub/exchange/zap.h"

#include <array>
#include <vector>

namespace carehub {

ZapHandler::ZapHandler(zmq::context_t& context,
                       std::function<void(const std::string&, const std::string&)> on_denied)
    : socket_(context, zmq::socket_type::rep), on_denied_(std::move(on_denied)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { Loop(); });
}

ZapHandler::~ZapHandler() { Stop(); }

void ZapHandler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (socket_) socket_.close();
}

void ZapHandler::SetMembers(std::map<std::string, std::string> members) {
  std::lock_guard lock(mutex_);
  members_ = std::move(members);
}

void ZapHandler::Loop() {
  while (!stop_) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    // version, request id, domain, address, identity, mechanism, credentials...
    std::vector<zmq::message_t> request;
    do {
      zmq::message_t part;
      if (!socket_.recv(part)) break;
      request.push_back(std::move(part));
    } while (socket_.get(zmq::sockopt::rcvmore));
    std::string status = "400", text = "not a federation member", user;
    if (request.size() >= 7 && request[5].to_string() == "CURVE" && request[6].size() == 32) {
      std::array<char, 41> z85{};
      zmq_z85_encode(z85.data(), static_cast<const std::uint8_t*>(request[6].data()), 32);
      const std::string key(z85.data(), 40);
      {
        std::lock_guard lock(mutex_);
        if (auto it = members_.find(key); it != members_.end()) {
          status = "200";
          text = "OK";
          user = it->second;
        }
      }
      if (status != "200" && on_denied_) on_denied_(key, request[3].to_string());
    }
    const std::string version = request.empty() ? "1.0" : request[0].to_string();
    const std::string id = request.size() > 1 ? request[1].to_string() : "";
    socket_.send(zmq::buffer(version), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(user), zmq::send_flags::sndmore);
    socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
}

}  // namespace carehub
