// The proxy benchmark's row (d): our HTTP layers alone, without actors. An http::server
// whose handler forwards every request through an http::client to one backend and
// passes the reply back: no routes, no choice, no retries, no metrics. What sova-dc's node
// does on top of this is the actors' share of its cost; what nginx does better than
// this is the HTTP layers' share (issue 3).
//
//   bench_http_proxy_floor LISTEN_PORT BACKEND_PORT    # both on 127.0.0.1; runs until SIGTERM

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/client.hpp"
#include "http/server.hpp"

int main(int argc, char** argv) {
  using namespace sova::http;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s LISTEN_PORT BACKEND_PORT\n", argv[0]);
    return 2;
  }
  auto listen_port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  auto backend_port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the io threads start
  // As in the node: server and client on one thread, bodies kept in the heap.
  auto io = io_runtime::start(1, {32u << 20});
  auto client = client::create({}, io);
  auto server = server::start(
      "127.0.0.1", listen_port, {}, [client, backend_port](request req, responder reply) {
        client_request out;
        out.method = req.method;
        // As the node does: straight to SOVA TTS's /synthesize/, not through its 308.
        out.target = req.target == "/synthesize" ? std::string("/synthesize/") : req.target;
        out.content_type = req.header("Content-Type");
        out.body = std::move(req.body);
        client->send("127.0.0.1", backend_port, std::move(out), [reply](client_result r) {
          response back;
          if (!r.ok) {
            reply(error_response(502, "backend", describe_failure(r)));
            return;
          }
          back.status = r.response.status;
          back.body = std::move(r.response.body);
          reply(std::move(back));
        });
      },
      {}, io);
  std::fprintf(stderr, "listening on 127.0.0.1:%u\n", server->port());
  int sig = 0;
  sigwait(&stop, &sig);
  server->stop();
  client->stop();
  io->stop();
  return 0;
}
