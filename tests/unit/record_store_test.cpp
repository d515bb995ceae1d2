#define CAF_SUITE record_store
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "net/record_store.hpp"

using namespace sova::net;
using namespace std::chrono_literals;

namespace {

const steady_time t0 = steady_time{} + 1000h;
const node_id asr_cpu = node_id::digest("asr/cpu");
const node_id tts_gpu = node_id::digest("tts/gpu");

using strings = std::vector<std::string>;

std::string joined(const std::optional<strings>& vs) {
  if (!vs) return "<none>";
  std::string out;
  for (const auto& v : *vs) out += v + ";";
  return out;
}

int as_int(store_status s) {
  return static_cast<int>(s);
}

const int stored = as_int(store_status::stored);

/// A distinct key per number.
node_id key_n(std::size_t n) {
  return node_id::digest("key/" + std::to_string(n));
}

struct fixture {
  record_store rs{store_limits{}, 3600s};
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(record_store_tests, fixture)

CAF_TEST(status names) {
  CAF_CHECK_EQUAL(std::string{to_string(store_status::stored)}, "stored");
  CAF_CHECK_EQUAL(std::string{to_string(store_status::rate_limited)}, "rate_limited");
  CAF_CHECK_EQUAL(std::string{to_string(store_status::too_many_keys)}, "too_many_keys");
  CAF_CHECK_EQUAL(std::string{to_string(store_status::too_many_from_source)},
                  "too_many_from_source");
}

CAF_TEST(stores add to a set in first stored order) {
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"asr/cpu/a:1"}, t0)), stored);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"asr/cpu/b:2"}, t0 + 1s)), stored);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"asr/cpu/a:1"}, t0 + 2s)), stored);
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 3s)), "asr/cpu/a:1;asr/cpu/b:2;");
  // A merged array adds only what is missing, duplicates inside it included.
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"asr/cpu/c:3", "asr/cpu/b:2", "asr/cpu/c:3"}, t0 + 4s)),
                  stored);
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 5s)), "asr/cpu/a:1;asr/cpu/b:2;asr/cpu/c:3;");
  CAF_CHECK_EQUAL(rs.key_count(), 1u);
  CAF_CHECK_EQUAL(rs.value_count(), 3u);
  CAF_CHECK_EQUAL(joined(rs.get(tts_gpu, t0)), "<none>");
}

CAF_TEST(refresh renews expiry and keeps the position) {
  rs.store(asr_cpu, {"a", "b"}, t0);
  rs.store(asr_cpu, {"a"}, t0 + 3000s);
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 3599s)), "a;b;");
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 3600s)), "a;");  // b was not refreshed
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 6599s)), "a;");
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 6600s)), "<none>");
  const auto& held = rs.records().at(asr_cpu);
  CAF_REQUIRE_EQUAL(held.size(), 2u);
  CAF_CHECK_EQUAL(held[0].value, "a");
  CAF_CHECK(held[0].expires == t0 + 6600s);
}

CAF_TEST(values expire and keys vanish) {
  rs.store(asr_cpu, {"a"}, t0);
  rs.store(asr_cpu, {"b"}, t0 + 100s);
  rs.store(tts_gpu, {"c"}, t0);
  CAF_CHECK_EQUAL(rs.keys(t0 + 1s).size(), 2u);
  CAF_CHECK_EQUAL(rs.expire(t0 + 3599s), 0u);
  CAF_REQUIRE_EQUAL(rs.keys(t0 + 3600s).size(), 1u);
  CAF_CHECK_EQUAL(rs.keys(t0 + 3600s)[0].to_hex(), asr_cpu.to_hex());
  CAF_CHECK_EQUAL(rs.expire(t0 + 3600s), 2u);
  CAF_CHECK_EQUAL(rs.key_count(), 1u);
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 3600s)), "b;");
  CAF_CHECK_EQUAL(rs.expire(t0 + 3700s), 1u);
  CAF_CHECK_EQUAL(rs.key_count(), 0u);
  CAF_CHECK(rs.keys(t0 + 3700s).empty());
}

CAF_TEST(expired values of a key are purged when it is stored again) {
  rs.store(asr_cpu, {"old"}, t0);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"new"}, t0 + 2h)), stored);
  CAF_CHECK_EQUAL(joined(rs.get(asr_cpu, t0 + 2h)), "new;");
  CAF_CHECK_EQUAL(rs.value_count(), 1u);
  // Even a refused store drops the dead values first (invisible to readers).
  rs.store(tts_gpu, {"x"}, t0);
  CAF_CHECK_EQUAL(as_int(rs.store(tts_gpu, {}, t0 + 2h)), as_int(store_status::empty));
  CAF_CHECK_EQUAL(rs.key_count(), 1u);
}

CAF_TEST(at most 64 values per key) {
  strings first;
  for (int i = 0; i < 64; ++i) first.push_back("v" + std::to_string(i));
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, first, t0)), stored);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"v64"}, t0)), as_int(store_status::too_many_values));
  // A batch mixing held values with one new one is refused as a whole.
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"v1", "v64"}, t0 + 10s)),
                  as_int(store_status::too_many_values));
  CAF_REQUIRE(rs.get(asr_cpu, t0));
  CAF_CHECK_EQUAL(rs.get(asr_cpu, t0)->size(), 64u);
  CAF_CHECK(rs.records().at(asr_cpu)[1].expires == t0 + 3600s);  // not refreshed
  // Refreshing what is held is still fine at the bound.
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, first, t0 + 10s)), stored);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"v7", "v7"}, t0 + 10s)), stored);
  CAF_CHECK_EQUAL(rs.get(asr_cpu, t0 + 10s)->size(), 64u);
  CAF_CHECK_EQUAL(std::string{rs.get(asr_cpu, t0)->front()}, "v0");  // copy: get() is a temporary
  // 65 distinct new values at once are refused on an empty key too.
  auto many = first;
  many.push_back("v64");
  CAF_CHECK_EQUAL(as_int(rs.store(tts_gpu, many, t0)), as_int(store_status::too_many_values));
  CAF_CHECK_EQUAL(rs.key_count(), 1u);
}

CAF_TEST(values of 512 bytes are fine and 513 are refused) {
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {std::string(512, 'x')}, t0)), stored);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"ok", std::string(513, 'y')}, t0)),
                  as_int(store_status::value_too_large));
  CAF_CHECK_EQUAL(rs.get(asr_cpu, t0)->size(), 1u);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {}, t0)), as_int(store_status::empty));
}

CAF_TEST(at most 10000 keys) {
  for (std::size_t i = 0; i < 10000; ++i) {
    if (rs.store(key_n(i), {"v"}, t0) != store_status::stored) {
      CAF_FAIL("store " << i << " refused");
    }
  }
  CAF_CHECK_EQUAL(rs.key_count(), 10000u);
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(10000), {"v"}, t0)), as_int(store_status::too_many_keys));
  CAF_CHECK_EQUAL(rs.key_count(), 10000u);
  CAF_CHECK(!rs.get(key_n(10000), t0));
  CAF_CHECK_EQUAL(joined(rs.get(key_n(0), t0)), "v;");
  CAF_CHECK_EQUAL(joined(rs.get(key_n(9999), t0)), "v;");
  // Held keys still take new values.
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(5), {"w"}, t0)), stored);
  CAF_CHECK_EQUAL(joined(rs.get(key_n(5), t0)), "v;w;");
  // Once everything expired and expire() ran, there is room again.
  auto later = t0 + 2h;
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(10000), {"v"}, later)),
                  as_int(store_status::too_many_keys));
  CAF_CHECK_EQUAL(rs.expire(later), 10001u);
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(10000), {"v"}, later)), stored);
  CAF_CHECK_EQUAL(rs.key_count(), 1u);
}

CAF_TEST(stores are rate limited per source) {
  const std::string peer = "127.0.0.1:8468";
  for (int i = 0; i < 200; ++i) {
    if (rs.store(key_n(i), {"v"}, t0, peer) != store_status::stored) {
      CAF_FAIL("burst store " << i << " refused");
    }
  }
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(200), {"v"}, t0, peer)),
                  as_int(store_status::rate_limited));
  CAF_CHECK(!rs.get(key_n(200), t0));
  // Other sources and our own stores are not affected.
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(201), {"v"}, t0, "127.0.0.2:8468")), stored);
  for (int i = 0; i < 1000; ++i) {
    if (rs.store(asr_cpu, {"local"}, t0) != store_status::stored) {
      CAF_FAIL("local store " << i << " refused");
    }
  }
  // 50 tokens per second come back.
  auto t1 = t0 + 1s;
  for (int i = 0; i < 50; ++i) {
    if (rs.store(key_n(300 + i), {"v"}, t1, peer) != store_status::stored) {
      CAF_FAIL("refilled store " << i << " refused");
    }
  }
  CAF_CHECK_EQUAL(as_int(rs.store(key_n(400), {"v"}, t1, peer)),
                  as_int(store_status::rate_limited));
  // Never more than the burst, however long the pause.
  auto t2 = t1 + 1h;
  int accepted = 0;
  for (int i = 0; i < 300; ++i)
    if (rs.store(tts_gpu, {"v"}, t2, peer) == store_status::stored) ++accepted;
  CAF_CHECK_EQUAL(accepted, 200);
}

CAF_TEST(rate limiter forgets sources within its bound) {
  store_limits lim;
  lim.max_tracked_sources = 3;
  lim.store_burst = 2;
  lim.stores_per_second = 1;
  record_store small{lim, 3600s};
  auto src = [](int i) { return "127.0.0." + std::to_string(i) + ":1"; };
  // Sources 1..3 spend their burst at t0; 4 then pushes out the oldest.
  for (int s = 1; s <= 3; ++s) {
    small.store(asr_cpu, {"v"}, t0 + std::chrono::milliseconds(s), src(s));
    small.store(asr_cpu, {"v"}, t0 + std::chrono::milliseconds(s), src(s));
  }
  CAF_CHECK_EQUAL(as_int(small.store(asr_cpu, {"v"}, t0 + 10ms, src(4))), stored);
  // Source 2 is still remembered as spent; source 1 (the least recent) was forgotten.
  CAF_CHECK_EQUAL(as_int(small.store(asr_cpu, {"v"}, t0 + 20ms, src(2))),
                  as_int(store_status::rate_limited));
  CAF_CHECK_EQUAL(as_int(small.store(asr_cpu, {"v"}, t0 + 20ms, src(1))), stored);
}

CAF_TEST(a refused store changes nothing) {
  rs.store(asr_cpu, {"a", "b"}, t0);
  auto before = rs.records().at(asr_cpu);
  auto same = [&] {
    const auto& now = rs.records().at(asr_cpu);
    if (now.size() != before.size()) return false;
    for (std::size_t i = 0; i < now.size(); ++i)
      if (now[i].value != before[i].value || now[i].expires != before[i].expires ||
          now[i].source != before[i].source)
        return false;
    return true;
  };
  auto t1 = t0 + 10s;
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"a", std::string(600, 'z')}, t1)),
                  as_int(store_status::value_too_large));
  CAF_CHECK(same());
  strings too_many{"a"};
  for (int i = 0; i < 63; ++i) too_many.push_back("n" + std::to_string(i));
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, too_many, t1)), as_int(store_status::too_many_values));
  CAF_CHECK(same());
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {}, t1)), as_int(store_status::empty));
  CAF_CHECK(same());
  const std::string peer = "127.9.9.9:1";
  for (int i = 0; i < 200; ++i) rs.store(tts_gpu, {"t"}, t1, peer);
  CAF_CHECK_EQUAL(as_int(rs.store(asr_cpu, {"a", "c"}, t1, peer)),
                  as_int(store_status::rate_limited));
  CAF_CHECK(same());
  CAF_CHECK_EQUAL(rs.key_count(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
