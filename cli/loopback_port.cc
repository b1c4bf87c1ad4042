#include "cli/loopback_port.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

namespace carehub::cli {
namespace {

// The lowest port of the kernel's ephemeral range: port-0 binds and the source ports of
// outgoing connections are drawn from it (32768 by default).
int EphemeralPortsStart() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return range >> low && low > 2048 ? low : 32768;
}

}  // namespace

// A port picked inside the ephemeral range could, by the time the hub binds it, have become the
// source port of any outgoing connection on the machine (a test suite running beside the demo
// makes many), and the hub's bind would fail. A port below the range only an explicit bind can
// take, so it is as free at start as when picked unless another program binds that very port.
int FreeLoopbackPort() {
  static std::set<int> picked;
  static std::mt19937 random(std::random_device{}());
  const int high = EphemeralPortsStart() - 1;
  std::uniform_int_distribution<int> ports(std::max(1024, high - 12000), high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = ports(random);
    if (picked.contains(port)) continue;
    try {
      Poco::Net::ServerSocket probe(
          Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    } catch (const Poco::Exception&) {
      continue;  // in use
    }
    picked.insert(port);
    return port;
  }
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  picked.insert(socket.address().port());
  return socket.address().port();
}

}  // namespace carehub::cli
