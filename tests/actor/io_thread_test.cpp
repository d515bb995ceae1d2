// The node's actors on its HTTP io thread (scheduler/io_coordinator.hpp): an HTTP front end on
// an io runtime of one thread, the actor system's scheduler on that same runtime, a real
// TTS request over loopback. The request's actor starts, and the directory, pool and
// forwarder it asks answer, on the one thread that read the request.
#define CAF_SUITE io_thread
#include <caf/test/unit_test.hpp>

#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/http_frontend.hpp"
#include "actors/service_directory.hpp"
#include "http/client.hpp"
#include "http/io_runtime.hpp"
#include "http/io_runtime_impl.hpp"
#include "scheduler/io_coordinator.hpp"
#include "serving/backend_cell.hpp"

using namespace sova;
using namespace std::chrono_literals;

namespace {

/// Which threads ran what.
struct seen_threads {
  std::mutex m;
  std::vector<std::thread::id> request_actors, directory, pool, forwarder;
  void note(std::vector<std::thread::id>& where) {
    std::lock_guard<std::mutex> guard{m};
    where.push_back(std::this_thread::get_id());
  }
};
using seen_ptr = std::shared_ptr<seen_threads>;

const auto backend = *net::parse_service_record("tts/cpu/192.0.2.1:8899");
const std::string reply = R"({"response_code": 0, "response": [{"response_audio": ""}]})";

actors::backend_forwarder_actor::behavior_type
forwarder(actors::backend_forwarder_actor::pointer, seen_ptr seen) {
  return {
      [=](actors::forward_atom, const actors::forward_request&) {
        seen->note(seen->forwarder);
        actors::forward_outcome o;
        o.status = actors::forward_status::served;
        o.http_status = 200;
        o.body = reply;
        return o;
      },
      [=](actors::forwarded_atom, std::uint64_t, const actors::forward_outcome&) {},
      [=](actors::half_open_atom) {},
      [=](actors::failed_atom, const std::string&) {},
      // Late binding is not exercised here: this request goes to its backend straight.
      [=](actors::reserve_atom, const actors::reservation_request&) {
        return actors::reservation_answer{};
      },
      [=](actors::cancel_atom, const std::string&) {},
      [=](actors::reserved_atom, std::uint64_t, const actors::reservation_answer&,
          serving::peer_kind) {},
  };
}

actors::service_directory_actor::behavior_type
directory(actors::service_directory_actor::pointer, seen_ptr seen) {
  return {
      [=](actors::backends_atom, net::service, net::wanted_kind) {
        seen->note(seen->directory);
        return actors::service_records{backend};
      },
      [=](actors::stats_atom) { return actors::directory_stats{}; },
      [=](actors::known_backends_atom) { return actors::directory_view{}; },
      [=](actors::own_atom, const actors::strings&, const actors::service_records&) {},
      [=](actors::tick_atom) {},
  };
}

actors::backend_pool_actor::behavior_type pool(actors::backend_pool_actor::pointer,
                                               seen_ptr seen,
                                               actors::backend_forwarder_actor fwd) {
  auto cell = std::make_shared<serving::backend_cell>(backend, 0.3);
  return {
      [=](actors::forwarders_atom, const actors::service_records&) {
        seen->note(seen->pool);
        return actors::backend_links{{fwd, cell}};
      },
      [=](actors::health_atom) { return serving::backend_readings{}; },
      [=](actors::tick_atom) {},
  };
}

/// The id of the runtime's (one) io thread.
std::thread::id io_thread_of(http::io_runtime& io) {
  std::promise<std::thread::id> id;
  boost::asio::post(io.internals().io, [&] { id.set_value(std::this_thread::get_id()); });
  return id.get_future().get();
}

}  // namespace

CAF_TEST(a_requests_actor_and_the_actors_it_asks_run_on_the_thread_that_read_it) {
  auto io = http::io_runtime::start(1);
  auto io_thread = io_thread_of(*io);
  CAF_CHECK(io_thread != std::this_thread::get_id());
  auto seen = std::make_shared<seen_threads>();
  http::client::options client_opts;
  auto client = http::client::create(client_opts);  // threads of its own: the test's side
  {
    caf::actor_system_config cfg;
    scheduler::run_actors_on(cfg, io);
    caf::actor_system sys{cfg};
    auto fwd = sys.spawn(forwarder, seen);
    auto dir = sys.spawn(directory, seen);
    auto pl = sys.spawn(pool, seen, fwd);
    actors::request_config req;
    req.on_start = [seen] { seen->note(seen->request_actors); };
    actors::node_handles src;
    src.node_id = std::string(40, 'a');
    src.directory = dir;
    src.pool = pl;
    http::server_limits limits;
    auto frontend =
        actors::http_frontend::start(sys, "127.0.0.1", 0, limits, req, src, {io, nullptr, {}, {}});
    for (int i = 0; i < 3; ++i) {
      http::client_request r;
      r.target = "/synthesize";
      r.content_type = "application/json";
      r.body = R"({"text": "hi", "voice": "Natasha"})";
      std::promise<http::client_result> done;
      client->send("127.0.0.1", frontend->port(), r,
                   [&](http::client_result res) { done.set_value(std::move(res)); });
      auto res = done.get_future().get();
      CAF_REQUIRE(res.ok);
      CAF_CHECK_EQUAL(res.response.status, 200u);
      CAF_CHECK_EQUAL(res.response.body, reply);
    }
    frontend->stop();
    client->stop();
    for (auto a : {caf::actor_cast<caf::actor>(fwd), caf::actor_cast<caf::actor>(dir),
                   caf::actor_cast<caf::actor>(pl)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }  // the actor system's end joins the io thread
  std::lock_guard<std::mutex> guard{seen->m};
  CAF_CHECK_EQUAL(seen->request_actors.size(), 3u);
  CAF_CHECK_EQUAL(seen->forwarder.size(), 3u);
  for (auto* where : {&seen->request_actors, &seen->directory, &seen->pool, &seen->forwarder}) {
    CAF_CHECK(!where->empty());
    for (auto id : *where) CAF_CHECK(id == io_thread);
  }
}
