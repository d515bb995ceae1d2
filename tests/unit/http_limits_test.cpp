// The pure pieces behind the HTTP server's bounds on hostile clients: the body budget,
// which part of a chunked body piles up, and connections counted per address. The server
// using them against raw sockets is in http_server_test.cpp.
#define CAF_SUITE http_limits
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "http/address_counts.hpp"
#include "http/body_budget.hpp"
#include "http/request_bounds.hpp"

using namespace sova::http;

CAF_TEST(the body budget takes what fits and nothing more) {
  body_budget b(1000);
  CAF_CHECK(b.take(600));
  CAF_CHECK(!b.take(401));  // all or nothing
  CAF_CHECK_EQUAL(b.in_use(), 600u);
  CAF_CHECK(b.take(400));  // exactly to the limit
  CAF_CHECK(!b.take(1));
  CAF_CHECK(b.take(0));
  b.give_back(1000);
  CAF_CHECK_EQUAL(b.in_use(), 0u);
  CAF_CHECK(!b.take(static_cast<std::size_t>(-1)));  // no wrap-around
  body_budget unlimited(0);
  CAF_CHECK(unlimited.take(1u << 30));
  CAF_CHECK_EQUAL(unlimited.in_use(), 1u << 30);
}

CAF_TEST(a reservation gives its bytes back however it ends) {
  auto b = std::make_shared<body_budget>(1000);
  {
    body_reservation r(b);
    CAF_CHECK(r.grow(300));
    CAF_CHECK(r.grow(300));
    CAF_CHECK(!r.grow(500));  // keeps what it held
    CAF_CHECK_EQUAL(r.size(), 600u);
    CAF_CHECK_EQUAL(b->in_use(), 600u);
  }  // destroyed
  CAF_CHECK_EQUAL(b->in_use(), 0u);
  body_reservation a(b);
  CAF_CHECK(a.grow(200));
  body_reservation moved(std::move(a));  // moved: counted once
  CAF_CHECK_EQUAL(b->in_use(), 200u);
  a.release();  // a moved-from reservation holds nothing
  CAF_CHECK_EQUAL(b->in_use(), 200u);
  body_reservation other(b);
  CAF_CHECK(other.grow(100));
  other = std::move(moved);  // reassigned: its own 100 go back
  CAF_CHECK_EQUAL(b->in_use(), 200u);
  other.release();
  other.release();  // twice is harmless
  CAF_CHECK_EQUAL(b->in_use(), 0u);
  body_reservation none;
  CAF_CHECK(!none.grow(1));  // no budget: nothing can be held
}

CAF_TEST(the body budget holds under concurrent takers) {
  auto b = std::make_shared<body_budget>(10000);
  std::atomic<int> over{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        body_reservation r(b);
        if (r.grow(3000) && b->in_use() > 10000) ++over;
      }
    });
  for (auto& t : threads) t.join();
  CAF_CHECK_EQUAL(over.load(), 0);
  CAF_CHECK_EQUAL(b->in_use(), 0u);
}

CAF_TEST(bytes piling up in a chunked body are a size line or the trailer) {
  CAF_CHECK(overlong_chunk_part("1;ext=aaaaaaaa") == bound_error::chunk_line);
  CAF_CHECK(overlong_chunk_part("\r\n1;ext=aaaaaaaa") == bound_error::chunk_line);
  CAF_CHECK(overlong_chunk_part("00000000000000000000") == bound_error::chunk_line);
  CAF_CHECK(overlong_chunk_part("0;last=aaaaaaaa") == bound_error::chunk_line);
  CAF_CHECK(overlong_chunk_part("0\r\nX-Big: bbbbbbbb") == bound_error::trailer);
  CAF_CHECK(overlong_chunk_part("\r\n000;e=1\r\nX-A: 1\r\nX-B: 2\r\n") == bound_error::trailer);
  CAF_CHECK(overlong_chunk_part("") == bound_error::chunk_line);
}

CAF_TEST(bound errors are error codes with messages) {
  boost::system::error_code ec = bound_error::trailer;
  CAF_CHECK(ec == bound_error::trailer);
  CAF_CHECK(ec != bound_error::chunk_line);
  CAF_CHECK_EQUAL(ec.category().name(), std::string("sova.http.bound"));
  CAF_CHECK_NOT_EQUAL(ec.message().find("trailer"), std::string::npos);
}

CAF_TEST(connections are counted per address up to a cap) {
  address_counts c;
  CAF_CHECK(c.try_add("10.0.0.1", 2));
  CAF_CHECK(c.try_add("10.0.0.1", 2));
  CAF_CHECK(!c.try_add("10.0.0.1", 2));
  CAF_CHECK(c.try_add("10.0.0.2", 2));  // another address has its own places
  CAF_CHECK_EQUAL(c.count("10.0.0.1"), 2u);
  c.remove("10.0.0.1");
  CAF_CHECK(c.try_add("10.0.0.1", 2));  // a place came back
  for (int i = 0; i < 100; ++i) CAF_CHECK(c.try_add("10.0.0.3", 0));  // 0: no cap
  for (int i = 0; i < 100; ++i) c.remove("10.0.0.3");
  c.remove("10.0.0.2");
  c.remove("10.0.0.9");  // unknown: harmless
  CAF_CHECK_EQUAL(c.addresses(), 1u);  // addresses without connections are forgotten
}

CAF_TEST(an ipv4 client counts once on a dual stack listener) {
  namespace ip = boost::asio::ip;
  CAF_CHECK_EQUAL(address_key(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  CAF_CHECK_EQUAL(address_key(ip::make_address("192.0.2.7")), "192.0.2.7");
  CAF_CHECK_EQUAL(address_key(ip::make_address("2001:db8::1")), "2001:db8::1");
}
