// The network-scale check: 300 nodes over the in-memory fabric, each joining through
// one other; 50 records stored from random nodes; every node finds every record;
// then 20% of the nodes vanish without notice and every record is still found.
#define CAF_SUITE dht_simulation
#include "caf/test/dsl.hpp"

#include "sim_scenario.hpp"

using namespace sova;

namespace {

struct fixture : test_coordinator_fixture<> {
  sim::sim_network net{sys, 2026};
};

void report(const char* phase, const sim::lookup_stats& st) {
  CAF_MESSAGE(phase << ": " << st.found << "/" << st.lookups << " found, rounds p50 "
                    << sim::percentile(st.rounds, 50) << " p99 " << sim::percentile(st.rounds, 99)
                    << ", rpcs p50 " << sim::percentile(st.queries, 50) << " p99 "
                    << sim::percentile(st.queries, 99));
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(dht_simulation_tests, fixture)

CAF_TEST(three_hundred_nodes_find_every_record_before_and_after_20_percent_vanish) {
  actors::dht_config base;  // k = 20, alpha = 3, 5 s timeouts, as the original
  auto joined = sim::grow(net, sched, 300, base);
  CAF_CHECK_EQUAL(joined, 299u);

  auto records = sim::put_records(net, sched, 50);
  auto before = sim::find_records(net, sched, records, sim::all_pairs(net, records.size()), 300);
  report("all nodes alive", before);
  CAF_CHECK_EQUAL(before.lookups, 300u * 50u);
  CAF_CHECK_EQUAL(before.errors, 0u);
  CAF_CHECK_EQUAL(before.found, before.lookups);

  CAF_CHECK_EQUAL(sim::kill_fraction(net, 0.2), 60u);
  auto after = sim::find_records(net, sched, records, sim::all_pairs(net, records.size()), 240);
  report("20% vanished", after);
  CAF_CHECK_EQUAL(after.lookups, 240u * 50u);
  CAF_CHECK_EQUAL(after.errors, 0u);
  CAF_CHECK_EQUAL(after.found, after.lookups);
}

CAF_TEST_FIXTURE_SCOPE_END()
