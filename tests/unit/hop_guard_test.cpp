// The Via rule that keeps a request from going round between nodes whose records point
// at each other (http/hop_guard).
#define CAF_SUITE hop_guard
#include "caf/test/unit_test.hpp"

#include "http/hop_guard.hpp"

using namespace sova::http;

CAF_TEST(each_node_appends_itself_and_refuses_a_request_that_names_it) {
  auto a = via_entry("0123456789abcdef0123456789abcdef01234567");
  auto b = via_entry("fedcba9876543210fedcba9876543210fedcba98");
  CAF_CHECK_EQUAL(a, "1.1 sova-dc-0123456789abcdef");
  CAF_CHECK(!hop_refusal("", a));
  auto at_b = next_via("", a);
  CAF_CHECK_EQUAL(at_b, a);
  CAF_CHECK(!hop_refusal(at_b, b));
  auto back_at_a = next_via(at_b, b);
  CAF_CHECK_EQUAL(back_at_a, a + ", " + b);
  auto why = hop_refusal(back_at_a, a);
  CAF_REQUIRE(why);
  CAF_CHECK_NOT_EQUAL(why->find("came back"), std::string::npos);
  // Other proxies' entries (nginx, a CDN) are kept and do not count as hops.
  CAF_CHECK_EQUAL(next_via(" 1.1 nginx ", a), "1.1 nginx, " + a);
  CAF_CHECK(!hop_refusal("1.1 nginx, 1.0 cdn,, ,", a));
}

CAF_TEST(a_chain_of_max_hops_nodes_is_refused_by_the_next) {
  std::string via;
  for (int i = 0; i < 4; ++i) {
    auto me = via_entry(std::string(16, static_cast<char>('a' + i)));
    CAF_CHECK(!hop_refusal(via, me));
    via = next_via(via, me);
  }
  auto why = hop_refusal(via, via_entry("eeeeeeeeeeeeeeee"));
  CAF_REQUIRE(why);
  CAF_CHECK_NOT_EQUAL(why->find("passed 4 nodes"), std::string::npos);
  CAF_CHECK(!hop_refusal(via, via_entry("eeeeeeeeeeeeeeee"), 5));
}

CAF_TEST(a_request_is_from_a_node_when_via_names_a_sova_dc_node) {
  CAF_CHECK(!forwarded_by_a_node(""));
  CAF_CHECK(!forwarded_by_a_node("1.1 nginx, 1.0 cdn"));  // other proxies: a client's request
  CAF_CHECK(forwarded_by_a_node(via_entry("0123456789abcdef")));
  CAF_CHECK(forwarded_by_a_node("1.1 nginx,  1.1 sova-dc-0123456789abcdef "));
  CAF_CHECK(!forwarded_by_a_node("1.1 sova-dcx"));
}
