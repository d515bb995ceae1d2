// The node's web page in a real browser (Debian's chromium, headless, driven by
// puppeteer-core: tests/browser/page_test.js) against a running network on loopback: node
// A announces the reference TTS and ASR backends (`sova-dc backend tts|asr`) as cpu and a
// test backend whose name is markup as asr/gpu; node B is A's neighbour. The page must load
// without console errors, play synthesized speech, show the words of a LibriVox recording,
// list the backends and nodes, and show markup from the network as text. Screenshots of
// each state go to <build>/web_page_test/. Before the browser: the files' HTTP headers.
// tests/browser/install-deps.sh (the ctest fixture browser_deps) installs chromium and
// puppeteer-core first.
#define CAF_SUITE integration_web_page
#include "caf/test/unit_test.hpp"

#include <filesystem>

#include "http/static_files.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;

namespace {

const std::string recording = "/usr/share/pocketsphinx/test/data/librivox/"
                              "sense_and_sensibility_01_austen_64kb-0930.wav";
// The ASR test backend puts its name into its transcripts: "<name> heard <N> bytes".
const std::string markup = "<img id=injected src=x onerror=window.hacked=1>";

struct network {
  std::string dir = temp_dir();
  reference_backend tts{"tts", "127.0.0.1", dir + "/tts.log"};
  reference_backend asr{"asr", "127.0.0.1", dir + "/asr.log"};
  test_backend marked{markup, dir, {"--only", "asr"}};
  std::uint16_t udp = free_udp_port({"127.0.0.2", "127.0.0.3"});
  node_process a{"127.0.0.2", udp, dir + "/a.log",
                 {"--services",
                  "tts/cpu/" + tts.address() + ",asr/cpu/" + asr.address() + ",asr/gpu/" +
                      marked.address(),
                  "--announce-interval", "1", "--directory-refresh", "1"}};
  node_process b{"127.0.0.3", udp, dir + "/b.log",
                 {"--neighbours", a.udp_address(), "--directory-refresh", "1"}};
  network() {
    auto found = [&] { return offered_backends(a, "tts") == 1 && offered_backends(a, "asr") == 2; };
    if (!eventually(found, 60s))
      throw std::runtime_error("node A did not find its backends in the DHT; logs in " + dir);
  }
};

std::string header_of(const http::client_result& r, const std::string& name) {
  return r.ok ? r.response.header(name) : "";
}

}  // namespace

CAF_TEST(the_page_works_in_a_real_browser) {
  network net;
  // The files, as the browser will get them.
  auto page = http_call(net.a.host, net.a.http_port, "GET", "/");
  CAF_REQUIRE(page.ok);
  CAF_CHECK_EQUAL(page.response.status, 200u);
  CAF_CHECK_EQUAL(header_of(page, "Content-Type"), "text/html; charset=utf-8");
  CAF_CHECK_EQUAL(header_of(page, "Content-Security-Policy"),
                  std::string(http::page_content_security_policy));
  CAF_CHECK(!header_of(page, "X-Request-Id").empty());
  auto etag = header_of(page, "ETag");
  CAF_CHECK(!etag.empty());
  auto again = http_call(net.a.host, net.a.http_port, "GET", "/", "", "", 10s,
                         {{"If-None-Match", etag}});
  CAF_CHECK_EQUAL(again.response.status, 304u);
  CAF_CHECK(again.response.body.empty());
  auto head = http_call(net.a.host, net.a.http_port, "HEAD", "/ui/app.js");
  CAF_CHECK_EQUAL(head.response.status, 200u);
  CAF_CHECK_EQUAL(header_of(head, "Content-Type"), "text/javascript; charset=utf-8");
  CAF_CHECK(head.response.body.empty());
  CAF_CHECK_EQUAL(http_call(net.a.host, net.a.http_port, "POST", "/", "text/plain", "x")
                      .response.status,
                  405u);

  // The browser. Its output (and on failure, why) is in the log.
  const std::string out = SOVA_WEB_TEST_DIR;
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  auto url = "http://" + net.a.host + ":" + std::to_string(net.a.http_port) + "/";
  child_process browser{{"/usr/bin/env", "NODE_PATH=" SOVA_BROWSER_MODULES, "node",
                         SOVA_SOURCE_DIR "/tests/browser/page_test.js", url, out, recording,
                         markup, net.tts.address(), net.asr.address(), net.b.udp_address()},
                        out + "/browser.log"};
  auto status = browser.wait_for(100s);
  CAF_MESSAGE("browser log:\n" << browser.log());
  CAF_REQUIRE(status.has_value());
  CAF_CHECK_EQUAL(*status, 0);
  for (const auto* shot : {"1-loaded.png", "2-tts.png", "3-asr.png", "4-markup.png", "5-network.png",
                            "6-readme.png"})
    CAF_CHECK(std::filesystem::exists(out + "/" + shot));
}
