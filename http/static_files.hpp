#pragma once
// GET / and /ui/*: the web page's files (web/assets.hpp) as HTTP replies, with the headers
// that keep the page to itself (a Content-Security-Policy it satisfies: no inline script,
// nothing from other origins) and let browsers revalidate it cheaply (ETag, 304).

#include <string_view>

#include "http/server.hpp"

namespace sova::http {

/// What the page may load: its own scripts, styles and images, the node's API, and the
/// blob: URLs it makes of synthesized audio; nothing inline, nothing from elsewhere.
inline constexpr std::string_view page_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'";

/// The reply to GET or HEAD of `target` (query ignored): the file with its content type,
/// ETag, Cache-Control no-cache (revalidate each time: a node upgraded in place serves its
/// new page at once) and the security headers; 304 without a body when `if_none_match`
/// names its ETag (or is *); 404 not_found for a path that is no file of the page.
response static_file_reply(std::string_view target, std::string_view if_none_match);

}  // namespace sova::http
