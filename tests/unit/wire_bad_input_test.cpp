// Every malformed datagram or body must be refused with a reason, never thrown.
#define CAF_SUITE wire_bad_input
#include "caf/test/unit_test.hpp"

#include <functional>
#include <string>

#include <msgpack.hpp>

#include "net/wire.hpp"

using namespace sova::net;
using namespace sova::net::wire;

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

/// Builds a msgpack body with the packer handed to `build`.
std::string body_of(const std::function<void(packer&)>& build) {
  msgpack::sbuffer buf;
  packer pk(buf);
  build(pk);
  return std::string(buf.data(), buf.size());
}

void str(packer& pk, const std::string& s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void bin(packer& pk, std::size_t n, char fill = '\x42') {
  std::string raw(n, fill);
  pk.pack_bin(static_cast<std::uint32_t>(n));
  pk.pack_bin_body(raw.data(), static_cast<std::uint32_t>(n));
}

void id(packer& pk) { bin(pk, node_id::size); }

/// `[name, [args...]]` with `n` arguments written by `args`.
std::string call(const std::string& name, std::uint32_t n,
                 const std::function<void(packer&)>& args) {
  return body_of([&](packer& pk) {
    pk.pack_array(2);
    str(pk, name);
    pk.pack_array(n);
    args(pk);
  });
}

std::string ids(const std::string& name, std::uint32_t n) {
  return call(name, n, [n](packer& pk) {
    for (std::uint32_t i = 0; i < n; ++i) id(pk);
  });
}

std::string store_with(const std::function<void(packer&)>& value) {
  return call("store", 3, [&](packer& pk) {
    id(pk);
    id(pk);
    value(pk);
  });
}

bool request_rejected(const std::string& body) {
  try {
    decode_error err;
    auto r = decode_request(body, &err);
    if (r || err.what.empty()) return false;
    CAF_MESSAGE("request refused: " << err.what);
    return true;
  } catch (...) {
    return false;
  }
}

bool reply_rejected(rpc_kind k, const std::string& body) {
  try {
    decode_error err;
    auto r = decode_reply(k, body, &err);
    if (r || err.what.empty()) return false;
    CAF_MESSAGE(to_string(k) << " reply refused: " << err.what);
    return true;
  } catch (...) {
    return false;
  }
}

bool request_accepted(const std::string& body) { return decode_request(body).has_value(); }

/// `[[id, ip, port]]` with the three fields written by `fields`.
std::string one_contact(const std::function<void(packer&)>& fields, std::uint32_t n = 3) {
  return body_of([&](packer& pk) {
    pk.pack_array(1);
    pk.pack_array(n);
    fields(pk);
  });
}

const std::string good_ping = ids("ping", 1);

}  // namespace

CAF_TEST(frames_too_short_or_flagged_wrong) {
  CAF_CHECK(!parse_frame(""));
  CAF_CHECK(!parse_frame(std::string(21, '\x00')));
  CAF_CHECK(parse_frame(std::string(22, '\x00')));
  CAF_CHECK(parse_frame(std::string(22, '\x01')));
  for (char flag : {'\x02', '\x7f', '\xff'}) {
    auto datagram = std::string(1, flag) + std::string(20, '\x00') + good_ping;
    CAF_CHECK(!parse_frame(datagram));
  }
}

CAF_TEST(builders_make_valid_requests) {
  // So that the rejections below are due to the one thing each case breaks.
  CAF_CHECK(request_accepted(good_ping));
  CAF_CHECK(request_accepted(ids("find_node", 2)));
  CAF_CHECK(request_accepted(ids("find_value", 2)));
  CAF_CHECK(request_accepted(ids("stun", 0)));
  CAF_CHECK(request_accepted(store_with([](packer& pk) { str(pk, "asr/cpu/h:1"); })));
  CAF_CHECK(request_accepted(store_with([](packer& pk) {
    pk.pack_array(2);
    str(pk, "asr/cpu/h:1");
    str(pk, "asr/cpu/\xc3\xa9:2");  // valid UTF-8 is fine
  })));
}

CAF_TEST(bodies_that_are_not_one_msgpack_object) {
  CAF_CHECK(request_rejected(""));
  CAF_CHECK(request_rejected("\xc1"));  // a byte msgpack never uses
  CAF_CHECK(request_rejected(std::string("\x92\xa4ping\x91\xc4\x14")));  // truncated id
  CAF_CHECK(request_rejected(good_ping.substr(0, good_ping.size() - 1)));
  CAF_CHECK(request_rejected(good_ping + std::string(1, '\x00')));
  CAF_CHECK(request_rejected(good_ping + good_ping));
  CAF_CHECK(reply_rejected(rpc_kind::store, ""));
  CAF_CHECK(reply_rejected(rpc_kind::store, "\xc3\xc3"));
  CAF_CHECK(reply_rejected(rpc_kind::ping, "\xc4\x14\x01"));
  CAF_CHECK(reply_rejected(rpc_kind::find_node, "\xc1"));
}

CAF_TEST(request_shape) {
  CAF_CHECK(request_rejected(body_of([](packer& pk) { id(pk); })));
  CAF_CHECK(request_rejected(body_of([](packer& pk) {
    pk.pack_array(3);
    str(pk, "ping");
    pk.pack_array(1);
    id(pk);
    pk.pack_nil();
  })));
  CAF_CHECK(request_rejected(body_of([](packer& pk) {
    pk.pack_array(2);
    str(pk, "ping");
    id(pk);  // args not in an array
  })));
  CAF_CHECK(request_rejected(body_of([](packer& pk) {
    pk.pack_array(2);
    bin(pk, 4);  // name as bin, not str
    pk.pack_array(1);
    id(pk);
  })));
  CAF_CHECK(request_rejected(std::string(max_request_body + 1, '\x00')));
}

CAF_TEST(unknown_functions) {
  CAF_CHECK(request_rejected(ids("rpc_ping", 1)));
  CAF_CHECK(request_rejected(ids("PING", 1)));
  CAF_CHECK(request_rejected(ids("", 1)));
  CAF_CHECK(request_rejected(ids("delete", 2)));
}

CAF_TEST(wrong_argument_counts) {
  CAF_CHECK(request_rejected(ids("ping", 0)));
  CAF_CHECK(request_rejected(ids("ping", 2)));
  CAF_CHECK(request_rejected(ids("store", 2)));
  CAF_CHECK(request_rejected(call("store", 4, [](packer& pk) {
    id(pk);
    id(pk);
    str(pk, "v");
    str(pk, "w");
  })));
  for (const char* name : {"find_node", "find_value"}) {
    CAF_CHECK(request_rejected(ids(name, 1)));
    CAF_CHECK(request_rejected(ids(name, 3)));
  }
  CAF_CHECK(request_rejected(ids("stun", 1)));
}

CAF_TEST(ids_of_wrong_size_or_type) {
  for (std::size_t n : {0u, 19u, 21u}) {
    CAF_CHECK(request_rejected(call("ping", 1, [n](packer& pk) { bin(pk, n); })));
    CAF_CHECK(request_rejected(call("find_node", 2, [n](packer& pk) {
      id(pk);
      bin(pk, n);
    })));
    CAF_CHECK(request_rejected(call("store", 3, [n](packer& pk) {
      bin(pk, n);
      id(pk);
      str(pk, "v");
    })));
  }
  auto text_id = std::string(20, 'a');
  CAF_CHECK(request_rejected(call("ping", 1, [&](packer& pk) { str(pk, text_id); })));
  CAF_CHECK(request_rejected(call("find_value", 2, [&](packer& pk) {
    id(pk);
    str(pk, text_id);
  })));
  CAF_CHECK(request_rejected(call("ping", 1, [](packer& pk) { pk.pack_nil(); })));
}

CAF_TEST(store_values_of_wrong_type) {
  CAF_CHECK(request_rejected(store_with([](packer& pk) { pk.pack(42); })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) { bin(pk, 8); })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) { pk.pack_nil(); })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) {
    pk.pack_map(1);
    str(pk, "value");
    str(pk, "v");
  })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) {
    pk.pack_array(2);
    str(pk, "asr/cpu/h:1");
    pk.pack(7);
  })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) {
    pk.pack_array(1);
    bin(pk, 3);
  })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) {
    pk.pack_array(1);
    pk.pack_array(1);  // nesting the schema has no room for
    str(pk, "v");
  })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) { str(pk, "bad \xff utf-8"); })));
  CAF_CHECK(request_rejected(store_with([](packer& pk) { str(pk, "\xed\xa0\x80"); })));  // surrogate
  CAF_CHECK(request_rejected(store_with([](packer& pk) { str(pk, "\xc0\xaf"); })));  // overlong
}

CAF_TEST(absurd_sizes) {
  CAF_CHECK(request_rejected(store_with([](packer& pk) {
    pk.pack_array(1001);
    for (int i = 0; i < 1001; ++i) str(pk, "");
  })));
  // A header that claims a huge array with nothing behind it.
  CAF_CHECK(reply_rejected(rpc_kind::find_node, std::string("\xdd\xff\xff\xff\xff", 5)));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, std::string("\xdf\xff\xff\xff\xff", 5)));
  CAF_CHECK(reply_rejected(rpc_kind::ping, std::string("\xc6\xff\xff\xff\xff", 5)));
  CAF_CHECK(reply_rejected(rpc_kind::find_node, std::string(100000, '\x91') + "\x90"));
}

CAF_TEST(replies_of_wrong_type) {
  auto nil = body_of([](packer& pk) { pk.pack_nil(); });
  auto yes = body_of([](packer& pk) { pk.pack(true); });
  auto twenty_text = body_of([](packer& pk) { str(pk, std::string(20, 'a')); });
  for (auto k : {rpc_kind::ping, rpc_kind::store, rpc_kind::find_node, rpc_kind::find_value,
                 rpc_kind::stun})
    CAF_CHECK(reply_rejected(k, nil));
  CAF_CHECK(reply_rejected(rpc_kind::ping, twenty_text));
  CAF_CHECK(reply_rejected(rpc_kind::ping, body_of([](packer& pk) { bin(pk, 19); })));
  CAF_CHECK(reply_rejected(rpc_kind::ping, body_of([](packer& pk) { bin(pk, 21); })));
  CAF_CHECK(reply_rejected(rpc_kind::ping, yes));
  CAF_CHECK(reply_rejected(rpc_kind::store, body_of([](packer& pk) { pk.pack(1); })));
  CAF_CHECK(reply_rejected(rpc_kind::store, body_of([](packer& pk) { str(pk, "true"); })));
  CAF_CHECK(reply_rejected(rpc_kind::find_node, yes));
  CAF_CHECK(reply_rejected(rpc_kind::find_node, body_of([](packer& pk) {
    pk.pack_map(1);
    str(pk, "value");
    str(pk, "v");
  })));  // a value map answers find_value only
  CAF_CHECK(reply_rejected(rpc_kind::find_value, yes));
  CAF_CHECK(reply_rejected(rpc_kind::stun, yes));
  CAF_CHECK(reply_rejected(rpc_kind::stun, body_of([](packer& pk) {
    pk.pack_array(1);
    str(pk, "1.2.3.4");
  })));
  CAF_CHECK(reply_rejected(rpc_kind::stun, body_of([](packer& pk) {
    pk.pack_array(3);
    str(pk, "1.2.3.4");
    pk.pack(5);
    pk.pack(6);
  })));
}

CAF_TEST(find_value_maps) {
  auto value_map = [](const std::function<void(packer&)>& entries, std::uint32_t n = 1) {
    return body_of([&](packer& pk) {
      pk.pack_map(n);
      entries(pk);
    });
  };
  CAF_CHECK(decode_reply(rpc_kind::find_value, value_map([](packer& pk) {
              str(pk, "value");
              str(pk, "v");
            })));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, value_map([](packer& pk) {
    str(pk, "values");
    str(pk, "v");
  })));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, value_map([](packer& pk) {
    bin(pk, 5, 'v');  // b"value" is not the str key Python sends
    str(pk, "v");
  })));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, value_map(
                                                     [](packer& pk) {
                                                       str(pk, "value");
                                                       str(pk, "v");
                                                       str(pk, "other");
                                                       str(pk, "w");
                                                     },
                                                     2)));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, value_map([](packer&) {}, 0)));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, value_map([](packer& pk) {
    str(pk, "value");
    pk.pack(3);
  })));
  CAF_CHECK(reply_rejected(rpc_kind::find_value, value_map([](packer& pk) {
    str(pk, "value");
    pk.pack_array(2);
    str(pk, "v");
    bin(pk, 2);
  })));
}

CAF_TEST(bad_contacts) {
  auto good = one_contact([](packer& pk) {
    id(pk);
    str(pk, "127.0.0.1");
    pk.pack(7001);
  });
  CAF_CHECK(decode_reply(rpc_kind::find_node, good));
  for (auto k : {rpc_kind::find_node, rpc_kind::find_value}) {
    for (long long port : {70000LL, 65536LL, -1LL}) {
      CAF_CHECK(reply_rejected(k, one_contact([port](packer& pk) {
        id(pk);
        str(pk, "127.0.0.1");
        pk.pack(port);
      })));
    }
    CAF_CHECK(reply_rejected(k, one_contact([](packer& pk) {
      str(pk, std::string(20, 'a'));  // id as str
      str(pk, "127.0.0.1");
      pk.pack(7001);
    })));
    CAF_CHECK(reply_rejected(k, one_contact([](packer& pk) {
      bin(pk, 19);
      str(pk, "127.0.0.1");
      pk.pack(7001);
    })));
    CAF_CHECK(reply_rejected(k, one_contact([](packer& pk) {
      id(pk);
      bin(pk, 4);  // ip as bin
      pk.pack(7001);
    })));
    CAF_CHECK(reply_rejected(k, one_contact([](packer& pk) {
      id(pk);
      str(pk, "");
      pk.pack(7001);
    })));
    CAF_CHECK(reply_rejected(k, one_contact([](packer& pk) {
      id(pk);
      str(pk, "127.0.0.1");
      str(pk, "7001");
    })));
    // The packer writes an integral double as an int, so the float is spelled out.
    auto float_port = std::string("\xcb\x40\xbb\x59\x00\x00\x00\x00\x00", 9);
    CAF_CHECK(reply_rejected(k, one_contact([](packer& pk) {
                                  id(pk);
                                  str(pk, "127.0.0.1");
                                }) + float_port));
    CAF_CHECK(reply_rejected(k, one_contact(
                                    [](packer& pk) {
                                      id(pk);
                                      str(pk, "127.0.0.1");
                                    },
                                    2)));
    CAF_CHECK(reply_rejected(k, body_of([](packer& pk) {
      pk.pack_array(1);
      id(pk);  // a bare id, not a contact triple
    })));
  }
}

CAF_TEST(bad_stun_replies) {
  for (long long port : {70000LL, -1LL}) {
    CAF_CHECK(reply_rejected(rpc_kind::stun, body_of([port](packer& pk) {
      pk.pack_array(2);
      str(pk, "127.0.0.1");
      pk.pack(port);
    })));
  }
  CAF_CHECK(reply_rejected(rpc_kind::stun, body_of([](packer& pk) {
    pk.pack_array(2);
    bin(pk, 4);
    pk.pack(7001);
  })));
}

CAF_TEST(error_pointer_is_optional) {
  CAF_CHECK(!decode_request("\xc1", nullptr));
  CAF_CHECK(!decode_reply(rpc_kind::ping, "\xc1", nullptr));
}
