#include "net/service_record.hpp"

#include "net/contact.hpp"

namespace sova::net {

std::string service_record::address() const { return endpoint{host, port}.to_string(); }

std::string service_record::to_string() const { return key_text() + "/" + address(); }

bool service_record::is_loopback() const {
  return is_loopback_host(host);
}

std::optional<service_record> parse_service_record(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<service_record> {
    if (error) *error = "'" + std::string(text) + "': " + why;
    return std::nullopt;
  };
  auto first = text.find('/');
  auto second = first == std::string_view::npos ? first : text.find('/', first + 1);
  if (second == std::string_view::npos)
    return fail("expected <asr|tts>/<cpu|gpu>/<host>:<port>");
  auto svc = parse_service(text.substr(0, first));
  auto knd = parse_kind(text.substr(first + 1, second - first - 1));
  if (!svc) return fail("service must be asr or tts");
  if (!knd) return fail("backend must be cpu or gpu");
  auto ep = parse_host_port(text.substr(second + 1));
  if (!ep) return fail("expected <host>:<port> with a port 1-65535 after the backend");
  for (char c : ep->host)
    if (c == '/' || c == ',' || c == ' ' || static_cast<unsigned char>(c) < 0x21)
      return fail("the host has a character a host name cannot have");
  return service_record{*svc, *knd, ep->host, ep->port};
}

}  // namespace sova::net
