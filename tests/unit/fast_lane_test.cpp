// The backend board and the fast lane's choice: when a request may skip the actors (every
// key on the board, every backend with a forwarder, a closed breaker somewhere), which
// backend it gets, and that a snapshot once taken never changes under its reader.
#define CAF_SUITE fast_lane
#include "caf/test/unit_test.hpp"

#include <set>

#include "serving/fast_lane.hpp"

using namespace sova;
using serving::backend_board;
using serving::backend_cell;
using actors::backend_link;
using serving::breaker_state;
using serving::fast_lane_pick;

namespace {

net::service_record rec(const std::string& text) { return *net::parse_service_record(text); }

/// A board where the directory posted `records` under their keys and the pool made a
/// forwarder (here: no actor, the lane does not message it when choosing) for each.
struct board_fixture {
  backend_board board;
  std::map<std::string, std::shared_ptr<backend_cell>> cells;
  std::mt19937_64 rng{7};

  void post(const std::string& key, const std::vector<std::string>& texts, bool forwarders = true) {
    actors::service_records records;
    for (const auto& t : texts) {
      records.push_back(rec(t));
      if (!forwarders) continue;
      auto cell = std::make_shared<backend_cell>(rec(t), 0.5);
      cells[t] = cell;
      board.post_backend(backend_link{{}, cell});
    }
    board.post_records(key, records);
  }

  std::string pick(const std::string& service = "tts", const std::string& kind = "any") {
    auto b = fast_lane_pick(*board.snapshot(), *net::parse_service(service),
                            *net::parse_wanted_kind(kind), rng);
    return b ? b->cell->name : "";
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(fast_lane_tests, board_fixture)

CAF_TEST(a_key_not_on_the_board_sends_the_request_to_the_actors) {
  CAF_CHECK_EQUAL(pick(), "");
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899"});
  CAF_CHECK_EQUAL(pick("tts", "cpu"), "tts/cpu/192.0.2.1:8899");
  // "any" needs tts/gpu too: it was never looked up, so the directory must do it.
  CAF_CHECK_EQUAL(pick("tts", "any"), "");
  post("tts/gpu", {});
  CAF_CHECK_EQUAL(pick("tts", "any"), "tts/cpu/192.0.2.1:8899");
}

CAF_TEST(no_known_backend_is_left_to_the_actors) {
  post("tts/cpu", {});
  CAF_CHECK_EQUAL(pick("tts", "cpu"), "");  // the actor answers 503 naming the service
}

CAF_TEST(a_backend_without_a_forwarder_yet_sends_the_request_to_the_actors) {
  post("asr/cpu", {"asr/cpu/192.0.2.1:8888"});
  post("asr/cpu", {"asr/cpu/192.0.2.1:8888", "asr/cpu/192.0.2.2:8888"}, false);
  CAF_CHECK_EQUAL(pick("asr", "cpu"), "");  // the pool makes its forwarder on the slow path
  board.post_backend(
      backend_link{{}, std::make_shared<backend_cell>(rec("asr/cpu/192.0.2.2:8888"), 0.3)});
  CAF_CHECK_NOT_EQUAL(pick("asr", "cpu"), "");
}

CAF_TEST(only_closed_breakers_are_chosen_and_none_closed_means_the_actors) {
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899", "tts/cpu/192.0.2.2:8899"});
  post("tts/gpu", {"tts/gpu/192.0.2.3:8899"});
  cells["tts/cpu/192.0.2.1:8899"]->set_breaker(breaker_state::open);
  cells["tts/gpu/192.0.2.3:8899"]->set_breaker(breaker_state::open);
  for (int i = 0; i < 50; ++i) CAF_CHECK_EQUAL(pick(), "tts/cpu/192.0.2.2:8899");
  cells["tts/cpu/192.0.2.2:8899"]->set_breaker(breaker_state::half_open);
  CAF_CHECK_EQUAL(pick(), "");  // half-open probes and refusals are the actors' business
}

CAF_TEST(the_choice_follows_the_cells_load_and_latency) {
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899", "tts/cpu/192.0.2.2:8899"});
  for (int i = 0; i < 10; ++i) cells["tts/cpu/192.0.2.1:8899"]->attempt_started();
  for (int i = 0; i < 50; ++i) CAF_CHECK_EQUAL(pick("tts", "cpu"), "tts/cpu/192.0.2.2:8899");
  for (int i = 0; i < 10; ++i) cells["tts/cpu/192.0.2.1:8899"]->attempt_ended();
  cells["tts/cpu/192.0.2.1:8899"]->record_served(5);
  cells["tts/cpu/192.0.2.2:8899"]->record_served(50);
  for (int i = 0; i < 50; ++i) CAF_CHECK_EQUAL(pick("tts", "cpu"), "tts/cpu/192.0.2.1:8899");
}

CAF_TEST(every_backend_of_every_key_gets_requests) {
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899", "tts/cpu/192.0.2.2:8899"});
  post("tts/gpu", {"tts/gpu/192.0.2.3:8899"});
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(pick());
  CAF_CHECK_EQUAL(seen.size(), 3u);
}

CAF_TEST(each_pick_counts_as_a_use_of_its_keys) {
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899"});
  post("tts/gpu", {});
  CAF_CHECK_EQUAL(board.key_uses("tts/cpu"), 0u);
  pick("tts", "any");
  pick("tts", "cpu");
  CAF_CHECK_EQUAL(board.key_uses("tts/cpu"), 2u);
  CAF_CHECK_EQUAL(board.key_uses("tts/gpu"), 1u);
  CAF_CHECK_EQUAL(board.key_uses("asr/cpu"), 0u);
  // New records under a key keep its count; a dropped key starts again.
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899", "tts/cpu/192.0.2.2:8899"});
  CAF_CHECK_EQUAL(board.key_uses("tts/cpu"), 2u);
  board.drop_records("tts/cpu");
  CAF_CHECK_EQUAL(board.key_uses("tts/cpu"), 0u);
  CAF_CHECK_EQUAL(pick("tts", "cpu"), "");
}

CAF_TEST(a_snapshot_does_not_change_under_its_reader) {
  post("tts/cpu", {"tts/cpu/192.0.2.1:8899"});
  auto before = board.snapshot();
  board.drop_backend(rec("tts/cpu/192.0.2.1:8899"));
  post("tts/gpu", {"tts/gpu/192.0.2.3:8899"});
  CAF_CHECK_EQUAL(before->backends.size(), 1u);
  CAF_CHECK_EQUAL(before->keys.size(), 1u);
  auto after = board.snapshot();
  CAF_CHECK_EQUAL(after->backends.count("tts/cpu/192.0.2.1:8899"), 0u);
  CAF_CHECK_EQUAL(after->keys.size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
