// A member hub's side of a connection to a serving hub, as raw frames over a CURVE DEALER with
// the member's own keys: tests that must see exactly what the hub answers (or send what no
// Exchange would) speak the wire protocol through it (docs/PROTOCOL.md).
// Contract: Send never blocks (a hub that refused the member leaves nothing to queue on);
// SendRaw sends any frames as one message; Receive returns the next whole message decoded, or
// nullopt after `wait`. One thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "hub/exchange/wire.h"
#include "hub/store/store.h"

namespace carehub::testing {

class RawMember {
 public:
  RawMember(zmq::context_t& context, const Store& member, const Store& server,
            const std::string& endpoint)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::curve_serverkey, server.keys().curve_public());
    socket_.set(zmq::sockopt::curve_publickey, member.keys().curve_public());
    socket_.set(zmq::sockopt::curve_secretkey, member.keys().curve_secret());
    socket_.set(zmq::sockopt::reconnect_ivl, 50);
    socket_.connect(endpoint);
  }

  void Send(const wire::Message& message) {
    const wire::Frames frames = wire::Encode(message);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size()
                             ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                             : zmq::send_flags::dontwait;
      if (!socket_.send(zmq::buffer(frames[i]), flags)) return;
    }
  }

  void SendRaw(const wire::Frames& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      socket_.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }

  std::optional<wire::Message> Receive(std::chrono::milliseconds wait) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) <= 0) return std::nullopt;
    wire::Frames frames;
    do {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      frames.push_back(part.to_string());
    } while (socket_.get(zmq::sockopt::rcvmore));
    return wire::Decode(frames);
  }

  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

}  // namespace carehub::testing
