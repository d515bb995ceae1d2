#include "actors/interfaces.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace sova::actors {

namespace {
constexpr auto dht_category = caf::atom("dht");
constexpr auto admin_category = caf::atom("admin");
}

caf::error make_error(admin_errc x, std::string message) {
  return caf::error(static_cast<std::uint8_t>(x), admin_category,
                    caf::make_message(std::move(message)));
}

const char* to_string(admin_errc x) {
  switch (x) {
    case admin_errc::unknown_command: return "unknown_command";
    case admin_errc::bad_arguments: return "bad_arguments";
    case admin_errc::failed: return "failed";
    case admin_errc::unavailable: return "unavailable";
  }
  return "failed";
}

caf::error make_error(dht_errc x) {
  return caf::error(static_cast<std::uint8_t>(x), dht_category);
}

const char* to_string(dht_errc x) {
  switch (x) {
    case dht_errc::timeout: return "the peer did not answer in time";
    case dht_errc::bad_reply: return "the peer sent a reply that does not decode";
    case dht_errc::too_large: return "the request is over rpcudp's 8192-byte limit";
    case dht_errc::no_contacts: return "no contacts: the routing table is empty";
    case dht_errc::overloaded: return "too many calls are waiting for answers already";
    case dht_errc::stopped: return "the node is stopping";
  }
  return "unknown dht error";
}

std::string describe(const caf::error& e) {
  if (!e) return "no error";
  if (e.category() == dht_category) return to_string(static_cast<dht_errc>(e.code()));
  if (e.category() == admin_category) {
    if (e.context().match_elements<std::string>()) return e.context().get_as<std::string>(0);
    return "admin command failed";
  }
  if (e.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(e.code()));
  return "error " + std::to_string(e.code()) + " in category " + caf::to_string(e.category());
}

}  // namespace sova::actors

namespace sova::actors {

const char* to_string(forward_status x) {
  switch (x) {
    case forward_status::served: return "served";
    case forward_status::failed: return "failed";
    case forward_status::refused: return "refused";
    case forward_status::unusable: return "unusable";
    case forward_status::busy: return "busy";
  }
  return "unknown";
}

}  // namespace sova::actors
