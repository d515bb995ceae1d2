// The web page's files as the node serves them (http/static_files, web/assets): every file
// of web/static is in the binary with its content type; the replies carry the CSP, ETag and
// nosniff, and a matching If-None-Match gets 304; the paths are routes (GET and HEAD only).
// And the page keeps to its CSP and its rule of showing data as text: no inline script or
// style in the HTML, no HTML parsing of strings in the script.
#define CAF_SUITE static_files
#include "caf/test/unit_test.hpp"

#include <regex>
#include <set>
#include <string>

#include "http/routes.hpp"
#include "http/static_files.hpp"
#include "web/assets.hpp"

using namespace sova;
using namespace sova::http;

namespace {

std::string header_of(const response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

std::string body_of(std::string_view path) {
  const auto* a = web::find_asset(path);
  if (!a) CAF_FAIL("no asset at " << path);
  return std::string(a->body);
}

}  // namespace

CAF_TEST(every_file_of_the_page_is_served_with_its_type) {
  std::set<std::string> paths;
  for (const auto& a : web::assets()) {
    paths.insert(std::string(a.path));
    CAF_CHECK(!a.body.empty());
    CAF_CHECK(std::regex_match(std::string(a.etag), std::regex("\"[0-9a-f]{16}\"")));
  }
  const std::set<std::string> expected{"/", "/ui/app.js", "/ui/icon.svg", "/ui/style.css"};
  CAF_CHECK_EQUAL(paths, expected);
  CAF_CHECK_EQUAL(web::find_asset("/")->content_type, "text/html; charset=utf-8");
  CAF_CHECK_EQUAL(web::find_asset("/ui/app.js")->content_type, "text/javascript; charset=utf-8");
  CAF_CHECK_EQUAL(web::find_asset("/ui/style.css")->content_type, "text/css; charset=utf-8");
  CAF_CHECK_EQUAL(web::find_asset("/ui/icon.svg")->content_type, "image/svg+xml");
  CAF_CHECK(web::find_asset("/index.html") == nullptr);
  CAF_CHECK(web::find_asset("/ui/") == nullptr);
  CAF_CHECK(web::find_asset("/ui/../ui/app.js") == nullptr);
}

CAF_TEST(a_file_reply_carries_the_policy_and_its_etag) {
  auto r = static_file_reply("/?from=link", "");
  CAF_CHECK_EQUAL(r.status, 200u);
  CAF_CHECK_EQUAL(r.content_type, "text/html; charset=utf-8");
  CAF_CHECK_EQUAL(r.body, body_of("/"));
  CAF_CHECK_EQUAL(header_of(r, "Content-Security-Policy"), std::string(page_content_security_policy));
  CAF_CHECK_EQUAL(header_of(r, "X-Content-Type-Options"), "nosniff");
  CAF_CHECK_EQUAL(header_of(r, "Cache-Control"), "no-cache");
  CAF_CHECK_EQUAL(header_of(r, "ETag"), std::string(web::find_asset("/")->etag));
  // The policy allows no inline script and nothing from elsewhere.
  auto csp = std::string(page_content_security_policy);
  CAF_CHECK(csp.find("unsafe-inline") == std::string::npos);
  CAF_CHECK(csp.find("unsafe-eval") == std::string::npos);
  CAF_CHECK(csp.find("script-src 'self';") != std::string::npos);
  CAF_CHECK(csp.find("default-src 'none'") != std::string::npos);
}

CAF_TEST(a_known_etag_gets_304_without_a_body) {
  auto etag = std::string(web::find_asset("/ui/app.js")->etag);
  for (const auto& given : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto r = static_file_reply("/ui/app.js", given);
    CAF_CHECK_EQUAL(r.status, 304u);
    CAF_CHECK(r.body.empty());
    CAF_CHECK(r.content_type.empty());
    CAF_CHECK_EQUAL(header_of(r, "ETag"), etag);
  }
  for (const auto& stale : {std::string("\"0000000000000000\""), std::string("x"), std::string()}) {
    auto r = static_file_reply("/ui/app.js", stale);
    CAF_CHECK_EQUAL(r.status, 200u);
    CAF_CHECK_EQUAL(r.body, body_of("/ui/app.js"));
  }
  // Another file's tag is not this one's.
  CAF_CHECK_EQUAL(static_file_reply("/", etag).status, 200u);
}

CAF_TEST(a_path_that_is_no_file_is_404) {
  auto r = static_file_reply("/ui/<b>nope</b>.js", "");
  CAF_CHECK_EQUAL(r.status, 404u);
  CAF_CHECK(r.body.find("not_found") != std::string::npos);
  CAF_CHECK_EQUAL(r.content_type, "application/json");  // the path in it is never HTML
}

CAF_TEST(the_page_paths_are_routes_for_get_and_head) {
  for (const auto& a : web::assets()) {
    for (const auto* method : {"GET", "HEAD"}) {
      auto r = match_route(method, a.path, nullptr);
      CAF_REQUIRE(r.has_value());
      CAF_CHECK(r->kind == route_kind::page);
    }
    response error;
    CAF_CHECK(!match_route("POST", a.path, &error));
    CAF_CHECK_EQUAL(error.status, 405u);
  }
  response error;
  CAF_CHECK(!match_route("GET", "/ui/missing.js", &error));
  CAF_CHECK_EQUAL(error.status, 404u);
  int listed = 0;
  for (const auto& r : route_table()) listed += r.kind == route_kind::page ? 1 : 0;
  CAF_CHECK_EQUAL(listed, static_cast<int>(web::assets().size()));
}

CAF_TEST(the_html_has_no_inline_script_or_style) {
  auto html = body_of("/");
  // Every <script> loads a file and is empty; no event-handler attributes, no style blocks.
  std::regex script("<script([^>]*)>([\\s\\S]*?)</script>", std::regex::icase);
  int scripts = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), script), end; it != end; ++it, ++scripts) {
    CAF_CHECK((*it)[1].str().find("src=\"/ui/") != std::string::npos);
    CAF_CHECK((*it)[2].str().empty());
  }
  CAF_CHECK_EQUAL(scripts, 1);
  CAF_CHECK(!std::regex_search(html, std::regex("\\son[a-z]+\\s*=", std::regex::icase)));
  CAF_CHECK(!std::regex_search(html, std::regex("<style|\\sstyle\\s*=", std::regex::icase)));
  CAF_CHECK(!std::regex_search(html, std::regex("(src|href)=\"(https?:)?//", std::regex::icase)));
  // What it loads is served.
  std::regex ref("(src|href)=\"(/ui/[^\"]+)\"");
  for (std::sregex_iterator it(html.begin(), html.end(), ref), end; it != end; ++it)
    CAF_CHECK(web::find_asset((*it)[2].str()) != nullptr);
}

CAF_TEST(the_script_never_parses_strings_as_html) {
  auto js = body_of("/ui/app.js");
  for (const auto* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function", "createContextualFragment"})
    CAF_CHECK_EQUAL(sink + std::string(js.find(sink) == std::string::npos ? "" : " used"), sink);
  CAF_CHECK(js.find("textContent") != std::string::npos);
}
