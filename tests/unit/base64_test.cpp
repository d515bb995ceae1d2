#define CAF_SUITE base64
#include <caf/test/unit_test.hpp>

#include <string>

#include "http/base64.hpp"

using sova::http::base64_decode;
using sova::http::base64_encode;

CAF_TEST(rfc_4648_vectors) {
  // RFC 4648 section 10.
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    CAF_CHECK_EQUAL(base64_encode(plain[i]), coded[i]);
    CAF_CHECK_EQUAL(base64_decode(coded[i]).value_or("<none>"), plain[i]);
  }
}

CAF_TEST(every_byte_round_trips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    auto part = all.substr(all.size() - len);
    CAF_CHECK_EQUAL(base64_decode(base64_encode(part)).value_or("<none>"), part);
  }
  CAF_CHECK_EQUAL(base64_encode("\xff\xfe\xfd"), "//79");
}

CAF_TEST(malformed_input_is_refused) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zg=a", "Zm9v\n", "Zm9 ", "Zm9*", "=Zm9",
                          "Zg==Zg=="}) {
    CAF_CHECK(!base64_decode(bad));
  }
}
