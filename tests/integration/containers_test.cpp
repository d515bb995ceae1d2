// The sova-dc image (built by deploy/build-image.sh in the test deploy_container_image)
// run as people run it, with podman:
// - three node containers and the two reference backends, on the host network on
//   127.0.0.2-6: real speech both ways through the node that owns no backend, the
//   image's HEALTHCHECK, a drain on `podman stop` with a request in flight, a restart
//   on the same state volume (same node id, rejoined without --neighbours), the non-root
//   user;
// - deploy/docker-compose.network.yml under podman-compose, on the bridge network it
//   creates: a request through it, and the admin port out of reach from the host.
#define CAF_SUITE integration_containers
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "backends/transcription.hpp"
#include "backends/wer.hpp"
#include "http/base64.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;
using apps::read_file;

namespace {

const std::string image = "sova-dc:latest";
const std::string librivox = "/usr/share/pocketsphinx/test/data/librivox/";
const std::string recording = "sense_and_sensibility_01_austen_64kb-0880";
const std::string prefix = "sova-test-" + std::to_string(::getpid()) + "-";

run_result podman(std::vector<std::string> args, std::chrono::milliseconds limit = 120s) {
  args.insert(args.begin(), "/usr/bin/podman");  // Debian's; spawned without a PATH search
  return run(args, limit);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Containers, volumes and networks of an earlier run of this test that ended before it
/// could remove them (a failed CAF_REQUIRE aborts): their names hold the pid of that run.
void remove_leftovers() {
  auto dead = [](const std::string& name) {
    const std::string mark = "sova-test-";
    if (name.rfind(mark, 0) != 0) return false;
    auto pid = std::atoi(name.c_str() + mark.size());
    return pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0;
  };
  auto each = [&](const std::vector<std::string>& list, const std::vector<std::string>& rm) {
    std::istringstream names(podman(list).out);
    for (std::string name; names >> name;)
      if (dead(name)) {
        auto argv = rm;
        argv.push_back(name);
        podman(argv);
      }
  };
  each({"ps", "-a", "--format", "{{.Names}}"}, {"rm", "-f", "-t", "0"});
  each({"volume", "ls", "--format", "{{.Name}}"}, {"volume", "rm", "-f"});
  each({"network", "ls", "--format", "{{.Name}}"}, {"network", "rm", "-f"});
}

/// A container this test started: removed (with its logs shown) when the test ends.
struct container {
  std::string name;
  container(const std::string& role, std::vector<std::string> args) : name(prefix + role) {
    std::vector<std::string> argv{"run", "-d", "--name", name, "--network", "host"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = podman(argv);
    CAF_REQUIRE_EQUAL(r.status, 0);
  }
  container(const container&) = delete;
  ~container() {
    CAF_MESSAGE(name << " logs:\n" << logs());
    podman({"rm", "-f", "-t", "0", name});
  }
  std::string logs() const {
    auto r = podman({"logs", name});
    return r.out + r.err;
  }
  std::string inspect(const std::string& format) const {
    return trimmed(podman({"inspect", "--format", format, name}).out);
  }
};

/// A named volume for a node's --state-dir, removed at the end.
struct volume {
  std::string name;
  explicit volume(const std::string& role) : name(prefix + role) {
    CAF_REQUIRE_EQUAL(podman({"volume", "create", name}).status, 0);
  }
  volume(const volume&) = delete;
  ~volume() { podman({"volume", "rm", "-f", name}); }
};

json get_json(const std::string& host, std::uint16_t port, const std::string& target) {
  auto r = http_call(host, port, "GET", target, "", "", 5s);
  if (!r.ok || r.response.status != 200) return json::object();
  return json::parse(r.response.body, nullptr, false);
}

bool healthy(const std::string& host, std::uint16_t port) {
  auto r = http_call(host, port, "GET", "/healthz", "", "", 2s);
  return r.ok && r.response.status == 200;
}

/// Whether the network offers an asr and a tts backend, as a DHT get from a node's admin
/// console finds them; `admin` runs `sova-dc admin -c COMMAND` against the node and
/// returns its exit status. Not the node's /status: that shows only what requests made
/// its directory look up (looking at it looks nothing up).
bool offers_both(const std::function<int(const std::string&)>& admin) {
  return admin("get asr/cpu") == 0 && admin("get tts/cpu") == 0;
}

/// The same through the admin port of a node on the host network.
bool offers_both(const std::string& host, std::uint16_t admin_port) {
  return offers_both([&](const std::string& command) {
    auto address = host + ":" + std::to_string(admin_port);
    return run({SOVA_DC_BINARY, "admin", "--connect", address, "-c", command}, 30s).status;
  });
}

/// TTS through a node: the WAV it answered, or "" (with the reason logged).
std::string synthesize(const std::string& host, std::uint16_t port, const std::string& text) {
  json req = {{"text", text}, {"voice", "en-us"}};
  auto r = http_call(host, port, "POST", "/synthesize", "application/json", req.dump(), 60s);
  if (!r.ok || r.response.status != 200) {
    CAF_MESSAGE("TTS failed: " << r.message << " " << r.response.status << " " << r.response.body);
    return {};
  }
  auto reply = json::parse(r.response.body, nullptr, false);
  if (reply.value("response_code", -1) != 0) return {};
  auto audio = http::base64_decode(reply["response"][0].value("response_audio", ""));
  return audio ? *audio : std::string{};
}

/// ASR through a node of `recordings` in one form: the texts recognised, in order.
std::vector<std::string> recognise(const std::string& host, std::uint16_t port,
                                   const std::vector<std::string>& recordings) {
  const std::string boundary = "sova-container-test";
  std::string body;
  for (std::size_t i = 0; i < recordings.size(); ++i)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"audio_blob" +
            std::to_string(i) + "\"; filename=\"speech" + std::to_string(i) +
            ".wav\"\r\nContent-Type: audio/wav\r\n\r\n" + recordings[i] + "\r\n";
  body += "--" + boundary + "--\r\n";
  auto r = http_call(host, port, "POST", "/asr", "multipart/form-data; boundary=" + boundary,
                     body, 120s);
  std::vector<std::string> texts;
  if (!r.ok || r.response.status != 200) {
    CAF_MESSAGE("ASR failed: " << r.message << " " << r.response.status << " " << r.response.body);
    return texts;
  }
  auto reply = json::parse(r.response.body, nullptr, false);
  if (!reply.is_object() || !reply["r"].is_array()) return texts;
  for (const auto& e : reply["r"])
    if (e.value("response_code", -1) == 0) texts.push_back(e["response"][0].value("text", ""));
  return texts;
}

double wer_of(const std::string& reference, const std::string& heard) {
  return backends::word_error_rate(reference, heard).rate();
}

const std::vector<std::string> hosts{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5",
                                     "127.0.0.6"};

/// The ports of this run: each node uses the same three on its own address.
struct network_ports {
  std::uint16_t udp = free_udp_port(hosts);
  std::uint16_t http = free_tcp_port(hosts);
  std::uint16_t admin = free_tcp_port(hosts);
  std::uint16_t tts = free_tcp_port(hosts);
  std::uint16_t asr = free_tcp_port(hosts);
};

/// `podman run` arguments of a node on `host`: --bind and --http-port through the
/// environment, as the image's HEALTHCHECK reads them.
std::vector<std::string> node_args(const network_ports& p, const std::string& host,
                                   const std::string& state_volume,
                                   std::vector<std::string> flags) {
  std::vector<std::string> args{"-e", "SOVA_DC_BIND=" + host,
                                "-e", "SOVA_DC_HTTP_PORT=" + std::to_string(p.http),
                                "-v", state_volume + ":/var/lib/sova-dc",
                                image, "node", "--port", std::to_string(p.udp),
                                "--admin-port", std::to_string(p.admin), "--allow-loopback",
                                "--state-dir", "/var/lib/sova-dc", "--announce-interval", "5"};
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

std::string udp_of(const network_ports& p, const std::string& host) {
  return host + ":" + std::to_string(p.udp);
}

}  // namespace

CAF_TEST(three_node_containers_serve_speech_drain_restart_and_report_healthy) {
  remove_leftovers();
  network_ports p;
  auto started = std::chrono::steady_clock::now();
  container tts("tts", {image, "backend", "tts", "--listen",
                        hosts[3] + ":" + std::to_string(p.tts)});
  container asr("asr", {image, "backend", "asr", "--listen",
                        hosts[4] + ":" + std::to_string(p.asr)});
  CAF_REQUIRE(eventually([&] { return healthy(hosts[3], p.tts) && healthy(hosts[4], p.asr); },
                         120s));
  volume v1("node1-state"), v2("node2-state"), v3("node3-state");
  container node1("node1", node_args(p, hosts[0], v1.name,
                                     {"--services", "tts/cpu/" + hosts[3] + ":" + std::to_string(p.tts)}));
  CAF_REQUIRE(eventually([&] { return healthy(hosts[0], p.http); }, 60s));
  container node2("node2", node_args(p, hosts[1], v2.name,
                                     {"--neighbours", udp_of(p, hosts[0]), "--services",
                                      "asr/cpu/" + hosts[4] + ":" + std::to_string(p.asr)}));
  // A long grace period: the request in flight below is CPU-bound, slow on a busy machine.
  auto node3 = std::make_unique<container>(
      "node3", node_args(p, hosts[2], v3.name,
                         {"--neighbours", udp_of(p, hosts[1]), "--grace-period", "90"}));
  CAF_REQUIRE(eventually([&] { return offers_both(hosts[2], p.admin); }, 90s));
  CAF_MESSAGE("network up and seen from node 3 after "
              << std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::steady_clock::now() - started).count() << " s");

  // Real speech both ways through node 3, which owns no backend.
  const std::string sentence = "speech recognition is working through the network";
  auto wav = synthesize(hosts[2], p.http, sentence);
  CAF_REQUIRE_GREATER(wav.size(), 22050u);  // more than half a second of 16-bit audio
  CAF_CHECK_EQUAL(wav.substr(0, 4), "RIFF");
  CAF_CHECK_EQUAL(wav.substr(8, 4), "WAVE");
  auto refs = backends::parse_transcription(read_file(librivox + "transcription"));
  auto heard = recognise(hosts[2], p.http, {read_file(librivox + recording + ".wav"), wav});
  CAF_REQUIRE_EQUAL(heard.size(), 2u);
  CAF_MESSAGE("recording heard as: " << heard[0] << " | synthesised heard as: " << heard[1]);
  CAF_CHECK_LESS(wer_of(refs.at(recording), heard[0]), 0.5);
  // espeak-ng's voice is far from what pocketsphinx learnt from (3 of 7 words, measured).
  CAF_CHECK_LESS_OR_EQUAL(wer_of(sentence, heard[1]), 0.72);

  // The image's HEALTHCHECK, run as the engine runs it (podman schedules it on systemd
  // timers, absent here: so it is run by hand).
  CAF_CHECK_EQUAL(podman({"healthcheck", "run", node3->name}).status, 0);
  CAF_CHECK_EQUAL(node3->inspect("{{.State.Health.Status}}"), "healthy");
  // Not root: the image's user sova (uid 10001) runs the node.
  CAF_CHECK_EQUAL(trimmed(podman({"exec", node3->name, "id", "-un"}).out), "sova");
  CAF_CHECK_EQUAL(node3->inspect("{{.Config.User}}"), "sova");

  // `podman stop` with a request in flight: it finishes, then the node exits 0.
  auto id = get_json(hosts[2], p.http, "/status").value("node_id", "");
  CAF_REQUIRE(!id.empty());
  std::vector<std::string> many;
  for (const auto& r : {"0870", "0890", "0920"})
    many.push_back(read_file(librivox + "sense_and_sensibility_01_austen_64kb-" + r + ".wav"));
  std::vector<std::string> in_flight_texts;
  std::thread client([&] { in_flight_texts = recognise(hosts[2], p.http, many); });
  bool seen_in_flight = eventually(
      [&] { return get_json(hosts[2], p.http, "/status").value("requests_in_flight", 0) > 0; },
      20s);
  CAF_CHECK(seen_in_flight);
  auto stop_started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration stop_took{};
  run_result stopped;
  std::thread stopper([&] {
    stopped = podman({"stop", "-t", "100", node3->name});
    stop_took = std::chrono::steady_clock::now() - stop_started;
  });
  // While it drains, its health check fails (503), so that no one sends it more.
  CAF_CHECK(eventually([&] { return podman({"healthcheck", "run", node3->name}).status != 0; },
                       10s));
  stopper.join();
  client.join();
  CAF_CHECK_EQUAL(stopped.status, 0);
  CAF_MESSAGE("podman stop took "
              << std::chrono::duration_cast<std::chrono::milliseconds>(stop_took).count() << " ms");
  CAF_CHECK_LESS(stop_took, 90s);  // node3's --grace-period
  CAF_CHECK_EQUAL(in_flight_texts.size(), many.size());
  CAF_CHECK_EQUAL(node3->inspect("{{.State.ExitCode}}"), "0");
  auto logs = node3->logs();
  CAF_CHECK(contains(logs, "SIGTERM received: draining"));
  CAF_CHECK(contains(logs, "every request in flight finished: stopping"));
  node3.reset();

  // The same state volume, no --neighbours: the same node, back in the network.
  container again("node3-again", node_args(p, hosts[2], v3.name, {}));
  CAF_REQUIRE(eventually([&] { return healthy(hosts[2], p.http); }, 60s));
  CAF_CHECK_EQUAL(get_json(hosts[2], p.http, "/status").value("node_id", ""), id);
  CAF_CHECK(eventually([&] { return offers_both(hosts[2], p.admin); }, 60s));
  CAF_CHECK(contains(again.logs(), "no --neighbours: rejoining through the"));
  CAF_CHECK_GREATER(synthesize(hosts[2], p.http, "back again").size(), 22050u);
  CAF_MESSAGE("whole test took "
              << std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::steady_clock::now() - started).count() << " s");
}

namespace {

/// A compose file of deploy/ brought up by podman-compose as a project of this test (its
/// containers, network and volumes named after it), taken down at the end.
struct compose_project {
  std::string project;
  std::string file;
  std::vector<std::string> containers;  // whose logs are shown at the end
  compose_project(const std::string& name, const std::string& file_name)
      : project(prefix + name), file(std::string(SOVA_SOURCE_DIR) + "/deploy/" + file_name) {}
  compose_project(const compose_project&) = delete;
  ~compose_project() {
    for (const auto& c : containers) {
      auto r = podman({"logs", c});
      CAF_MESSAGE(c << " logs:\n" << r.out << r.err);
    }
    auto down = compose({"down", "-v", "-t", "5"}, 180s);
    if (down.status != 0) CAF_MESSAGE("podman-compose down:\n" << down.out << down.err);
    // podman-compose 1.0.3's down leaves the networks it made.
    auto nets = podman({"network", "ls", "-q", "--filter",
                        "label=io.podman.compose.project=" + project});
    std::istringstream ids(nets.out);
    for (std::string id; ids >> id;) podman({"network", "rm", "-f", id});
  }
  run_result compose(std::vector<std::string> args, std::chrono::milliseconds limit) const {
    std::vector<std::string> argv{"/usr/bin/podman-compose", "-p", project, "-f", file};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, limit);
  }
  void up() const {
    auto r = compose({"up", "-d", "--no-build"}, 300s);
    CAF_MESSAGE("podman-compose up:\n" << r.out << r.err);
    CAF_REQUIRE_EQUAL(r.status, 0);
  }
};

/// deploy/docker-compose.network.yml, its nodes' HTTP APIs published on free host ports.
struct compose_network : compose_project {
  std::vector<std::uint16_t> published;  // node1's, node2's and node3's, on 127.0.0.1
  compose_network() : compose_project("network", "docker-compose.network.yml") {
    for (const auto& variable : {"NODE1_HTTP", "NODE2_HTTP", "NODE3_HTTP"}) {
      published.push_back(free_tcp_port({"127.0.0.1"}));
      ::setenv(variable, std::to_string(published.back()).c_str(), 1);
    }
    for (const auto& s : {"node1", "node2", "node3", "tts", "asr"}) containers.push_back(container(s));
  }
  /// podman-compose's name of a service's container.
  std::string container(const std::string& service) const {
    return project + "_" + service + "_1";
  }
  /// A container's address on the project's network.
  std::string address_of(const std::string& service) const {
    return trimmed(podman({"inspect", "--format",
                           "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                           container(service)})
                       .out);
  }
};

}  // namespace

CAF_TEST(the_compose_network_serves_speech_and_keeps_the_admin_port_inside) {
  remove_leftovers();
  compose_network net;
  auto started = std::chrono::steady_clock::now();
  net.up();
  const std::string host = "127.0.0.1";
  auto node3_console = [&](const std::string& command) {
    return podman({"exec", net.container("node3"), "sova-dc", "admin", "-c", command}).status;
  };
  CAF_REQUIRE(eventually([&] { return offers_both(node3_console); }, 180s));
  CAF_MESSAGE("node3 saw both backends offered after "
              << std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::steady_clock::now() - started).count() << " s");
  auto wav = synthesize(host, net.published[2], "speech recognition is working");
  CAF_CHECK_GREATER(wav.size(), 22050u);
  auto refs = backends::parse_transcription(read_file(librivox + "transcription"));
  auto heard = recognise(host, net.published[0], {read_file(librivox + recording + ".wav")});
  CAF_REQUIRE_EQUAL(heard.size(), 1u);
  CAF_CHECK_LESS(wer_of(refs.at(recording), heard[0]), 0.5);

  // On the bridge network the HTTP API answers at the container's address, the admin
  // port (127.0.0.1 inside the container) does not; from inside, the console works.
  auto node1 = net.address_of("node1");
  CAF_MESSAGE("node1 is at " << node1);
  CAF_REQUIRE(!node1.empty());
  CAF_CHECK(healthy(node1, 5600));
  CAF_CHECK(!tcp_connects(node1, 5700));
  auto info = podman({"exec", net.container("node1"), "sova-dc", "admin", "-c", "info"});
  CAF_CHECK_EQUAL(info.status, 0);
  CAF_CHECK(contains(info.out, "127.0.0.1:5700"));
  // The image's health check, on a node and on a backend (SOVA_DC_HTTP_PORT=8899).
  CAF_CHECK_EQUAL(podman({"healthcheck", "run", net.container("node3")}).status, 0);
  CAF_CHECK_EQUAL(podman({"healthcheck", "run", net.container("tts")}).status, 0);
}

