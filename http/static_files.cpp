#include "http/static_files.hpp"

#include <string>

#include "http/text.hpp"
#include "web/assets.hpp"

namespace sova::http {

namespace {

/// If-None-Match's list ("a", W/"b", *) names `etag`; weak and strong tags compare alike
/// (RFC 9110 13.1.2: the weak comparison).
bool names_etag(std::string_view list, std::string_view etag) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    item = trim_blanks(item);
    if (item == "*") return true;
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == etag) return true;
  }
  return false;
}

}  // namespace

response static_file_reply(std::string_view target, std::string_view if_none_match) {
  auto path = target.substr(0, target.find('?'));
  const auto* file = web::find_asset(path);
  if (!file)
    return error_response(404, "not_found", "no file of the page at '" + shown(path) + "'");
  response r;
  r.headers = {{"ETag", std::string(file->etag)},
               {"Cache-Control", "no-cache"},
               {"Content-Security-Policy", std::string(page_content_security_policy)},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"}};
  if (names_etag(if_none_match, file->etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = std::string(file->content_type);
  r.body = std::string(file->body);
  return r;
}

}  // namespace sova::http
