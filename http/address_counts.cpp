#include "http/address_counts.hpp"

namespace sova::http {

bool address_counts::try_add(const std::string& address, std::size_t cap) {
  if (cap > 0 && count(address) >= cap) return false;
  ++counts_[address];
  return true;
}

void address_counts::remove(const std::string& address) {
  auto it = counts_.find(address);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

std::size_t address_counts::count(const std::string& address) const {
  auto it = counts_.find(address);
  return it == counts_.end() ? 0 : it->second;
}

std::string address_key(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

}  // namespace sova::http
