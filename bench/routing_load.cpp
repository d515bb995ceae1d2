// The routing benchmark's load: open-loop Poisson arrivals of TTS requests, each sent to a
// node drawn uniformly from a list, and one CSV line per request. Arrivals never wait for
// replies: every request has its own exchange (the client opens connections as needed).
//
//   bench_routing_load --nodes 127.0.0.2:5600,127.0.0.3:5600 --rate 16 --duration 120
//                      --prefix run1 --out requests.csv [--seed 1] [--timeout 180]
//                      [--voice Natasha]
//
// Request i is POST /synthesize {"text": "<prefix>-<i>", "voice": "Natasha"}: the text is
// the job id the test backends write into their job logs. The CSV has a header and one
// line per request, in sending order:
//   id,send_unix_s,node,status,latency_s,error
// status 0 with the client's error when no HTTP reply came (error empty otherwise). Exits
// once every request has its reply or --timeout has passed after the last one was sent.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "http/client.hpp"

namespace {

using steady = std::chrono::steady_clock;

struct node_address {
  std::string host;
  std::uint16_t port = 0;
  std::string text;
};

std::vector<node_address> parse_nodes(const std::string& list) {
  std::vector<node_address> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    auto comma = list.find(',', at);
    auto item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw std::invalid_argument("expected HOST:PORT, got \"" + item + "\"");
    auto port = std::stoul(item.substr(colon + 1));
    if (port == 0 || port > 65535) throw std::invalid_argument("bad port in \"" + item + "\"");
    out.push_back({item.substr(0, colon), static_cast<std::uint16_t>(port), item});
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

struct outcome {
  double send_unix = 0;
  std::size_t node = 0;
  unsigned status = 0;
  double latency = -1;  // < 0: no result yet
  std::string error;
};

/// CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Open-loop Poisson load of TTS requests over a list of sova-dc nodes"};
  std::string nodes_text, prefix, out_path, voice = "Natasha";
  double rate = 0, duration = 0, timeout_s = 180;
  std::uint64_t seed = 1;
  app.add_option("--nodes", nodes_text, "HOST:PORT[,HOST:PORT...] of the nodes' HTTP APIs")
      ->required();
  app.add_option("--rate", rate, "Mean arrivals per second")->required()->check(CLI::PositiveNumber);
  app.add_option("--duration", duration, "Seconds of arrivals")->required()->check(CLI::PositiveNumber);
  app.add_option("--prefix", prefix, "Texts are PREFIX-<n>: the job ids")->required();
  app.add_option("--out", out_path, "CSV file to write")->required();
  app.add_option("--seed", seed, "Seed of arrivals and node choices")->capture_default_str();
  app.add_option("--timeout", timeout_s, "Seconds a request may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--voice", voice, "TTS voice")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<node_address> nodes;
  try {
    nodes = parse_nodes(nodes_text);
  } catch (const std::exception& e) {
    std::cerr << "bench_routing_load: --nodes: " << e.what() << "\n";
    return 2;
  }
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  if (!out) {
    std::cerr << "bench_routing_load: cannot write " << out_path << "\n";
    return 2;
  }

  // The schedule first, so that one seed gives the same arrivals and choices on any run.
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  std::uniform_int_distribution<std::size_t> pick(0, nodes.size() - 1);
  std::vector<double> at;
  std::vector<std::size_t> node_of;
  for (double t = gap(rng); t < duration; t += gap(rng)) {
    at.push_back(t);
    node_of.push_back(pick(rng));
  }

  sova::http::client::options options;
  options.threads = 2;
  options.max_idle_per_host = 256;
  auto client = sova::http::client::create(options);
  std::vector<outcome> results(at.size());
  std::mutex mutex;
  std::condition_variable all_done;
  std::size_t pending = at.size();
  auto timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));

  auto begin = steady::now();
  for (std::size_t i = 0; i < at.size(); ++i) {
    std::this_thread::sleep_until(begin + std::chrono::duration_cast<steady::duration>(
                                              std::chrono::duration<double>(at[i])));
    const auto& n = nodes[node_of[i]];
    sova::http::client_request req;
    req.method = "POST";
    req.target = "/synthesize";
    req.content_type = "application/json";
    req.body = nlohmann::json{{"text", prefix + "-" + std::to_string(i)}, {"voice", voice}}.dump();
    req.timeout = timeout;
    auto sent = steady::now();
    {
      std::lock_guard<std::mutex> lock(mutex);
      results[i].node = node_of[i];
      results[i].send_unix =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    }
    client->send(n.host, n.port, std::move(req), [&, i, sent](sova::http::client_result r) {
      double latency = std::chrono::duration<double>(steady::now() - sent).count();
      std::lock_guard<std::mutex> lock(mutex);
      results[i].latency = latency;
      if (r.ok)
        results[i].status = r.response.status;
      else
        results[i].error = sova::http::describe_failure(r);
      if (--pending == 0) all_done.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    all_done.wait_for(lock, timeout + std::chrono::seconds(5), [&] { return pending == 0; });
  }
  client->stop();  // fails whatever is left with shut_down; its callbacks have run after this

  std::size_t ok = 0;
  std::fprintf(out, "id,send_unix_s,node,status,latency_s,error\n");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (r.status == 200) ++ok;
    std::fprintf(out, "%s,%.6f,%s,%u,%.6f,%s\n", csv(prefix + "-" + std::to_string(i)).c_str(),
                 r.send_unix, nodes[r.node].text.c_str(), r.status, r.latency < 0 ? 0.0 : r.latency,
                 csv(r.error).c_str());
  }
  std::fclose(out);
  std::fprintf(stderr, "bench_routing_load: %zu requests at %.2f/s over %.0f s, %zu answered 200\n",
               results.size(), rate, duration, ok);
  return 0;
}
