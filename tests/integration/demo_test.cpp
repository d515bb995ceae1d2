// `sova-dc demo` run as a user runs it (on free ports): it must end by itself with
// status 0 after real speech went through a 3-node network, leave its audio behind and
// nothing running; and Ctrl-C in the middle must stop everything it started.
//
// The demo's step 1-2 is the TTS-then-ASR round trip through the network (node 3
// synthesises, node 1 recognises); step 3 recognises a real recording through node 2;
// step 5 asks node 1's admin console what the network offers.
#define CAF_SUITE integration_demo
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <csignal>
#include <string>

#include <unistd.h>

#include "process.hpp"

using namespace sova::testing;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> hosts{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5",
                                     "127.0.0.6"};

struct demo_ports {
  std::string udp = std::to_string(free_udp_port(hosts));
  std::string http = std::to_string(free_tcp_port(hosts));
  std::string tts = std::to_string(free_tcp_port(hosts));
  std::string asr = std::to_string(free_tcp_port(hosts));
  std::string admin = std::to_string(free_tcp_port(hosts));
  std::vector<std::string> argv(const std::string& dir) const {
    return {SOVA_DC_BINARY, "demo", "--port", udp, "--http-port", http, "--tts-port", tts,
            "--asr-port", asr, "--admin-port", admin, "--dir", dir};
  }
};

bool tcp_listening(const std::string& host, const std::string& port) {
  return tcp_connects(host, static_cast<std::uint16_t>(std::stoi(port)));
}

bool nothing_left(const demo_ports& p) {
  for (int i = 0; i < 3; ++i)
    if (tcp_listening(hosts[i], p.http)) return false;
  return !tcp_listening(hosts[3], p.tts) && !tcp_listening(hosts[4], p.asr);
}

// The number before `marker` in `text` (e.g. "3" of "3 of 7 words"), or -1.
int number_before(const std::string& text, const std::string& marker) {
  auto at = text.find(marker);
  if (at == std::string::npos || at == 0) return -1;
  auto start = text.find_last_not_of("0123456789", at - 1);
  start = start == std::string::npos ? 0 : start + 1;
  return start < at ? std::stoi(text.substr(start, at - start)) : -1;
}

}  // namespace

CAF_TEST(the_demo_runs_speech_through_the_network_and_ends_by_itself) {
  demo_ports ports;
  auto dir = temp_dir();
  auto r = run(ports.argv(dir), 300s);
  CAF_MESSAGE("demo output:\n" << r.out << r.err);
  CAF_REQUIRE_EQUAL(r.status, 0);
  CAF_CHECK_NOT_EQUAL(r.out.find("demo: all steps succeeded"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(r.out.find("stopped 5 process(es)"), std::string::npos);
  // Round trip: measured 3 of the 7 words heard right (espeak-ng's voice is far from what
  // pocketsphinx's model learnt from); at least 2 must be.
  CAF_CHECK_GREATER_OR_EQUAL(number_before(r.out, " of 7 words heard right"), 2);
  // The LibriVox recording: measured 38% word error rate (3 of 8 words).
  auto wer = number_before(r.out.substr(r.out.find("3. ASR")), "%");
  CAF_CHECK(wer >= 0 && wer <= 50);
  auto english = sova::apps::read_file(dir + "/english.wav");
  CAF_CHECK_EQUAL(english.substr(0, 4), "RIFF");
  CAF_CHECK_GREATER(english.size(), 44u + 22050u);  // at least half a second
  CAF_CHECK_EQUAL(sova::apps::read_file(dir + "/dobryi_den.wav").substr(0, 4), "RIFF");
  // Step 5: node 1's admin console lists both services the network offers: its own TTS
  // backend, and ASR through node 2, which owns that backend and announces its endpoint.
  auto console = r.out.substr(std::min(r.out.find("5. The admin console"), r.out.size()));
  CAF_CHECK(contains(console, "tts/cpu/127.0.0.5:" + ports.tts));
  CAF_CHECK(contains(console, "asr/cpu/127.0.0.3:" + ports.http));
  CAF_CHECK(nothing_left(ports));
}

CAF_TEST(ctrl_c_stops_everything_the_demo_started) {
  demo_ports ports;
  auto dir = temp_dir();
  child_process demo(ports.argv(dir), dir + "/demo.log");
  CAF_REQUIRE(eventually([&] { return demo.log().find("node 3 on") != std::string::npos; }, 60s));
  demo.signal(SIGINT);
  auto status = demo.wait_for(60s);
  CAF_MESSAGE("demo output:\n" << demo.log());
  CAF_REQUIRE(status.has_value());
  CAF_CHECK_EQUAL(*status, 130);
  CAF_CHECK_NOT_EQUAL(demo.log().find("interrupted"), std::string::npos);
  CAF_CHECK(nothing_left(ports));
}
