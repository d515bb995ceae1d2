// Seeds of the operator-facing inputs: admin console scripts (README, "The admin
// console") and --state-dir files (node_state.hpp's documented format).

#include "fuzz/seeds/seeds.hpp"

namespace sova::fuzz::seeds {

namespace {

void admin_script(const writer& out) {
  const char* scripts[] = {
      "info; services tts",
      "stats\npeers\ntable\nrecords asr/cpu\nservices asr\nlog-level debug\n",
      ("put asr/cpu 'http://10.0.0.2:8888' \"a \\\"quoted\\\" \\\\ value\"  # a comment\n"
       "get 0x00112233445566778899aabbccddeeff00112233\n"),
      "bootstrap 127.0.0.2:5678 \\\n  127.0.0.3:5678 [::1]:5678;ping 127.0.0.1:5678",
      "lookup tts/gpu; drain; undrain; help put; help; quit\n# only a comment\n;;\n",
      "put k 'multi\nline' a\\ b\r\nexit",
      "get 'unterminated\n",
      "loookup x; geet y; \\",
  };
  int i = 0;
  for (const char* s : scripts) out.put("admin_script", "script-" + std::to_string(i++), s);
}

void node_state(const writer& out) {
  out.put("node_state", "saved",
          "{\n"
          "  \"format\": \"sova-dc node state\",\n"
          "  \"version\": 1,\n"
          "  \"node_id\": \"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\",\n"
          "  \"saved_at\": 1700000000,\n"
          "  \"contacts\": [\n"
          "    {\n"
          "      \"id\": \"00000000000000000000000000000000000000ab\",\n"
          "      \"host\": \"10.0.0.2\",\n"
          "      \"port\": 5678\n"
          "    },\n"
          "    {\n"
          "      \"id\": \"00000000000000000000000000000000000000AC\",\n"
          "      \"host\": \"::1\",\n"
          "      \"port\": 1\n"
          "    }\n"
          "  ]\n"
          "}\n");
  out.put("node_state", "unknown-fields-duplicate-contact",
          R"({"format": "sova-dc node state", "version": 1, "extra": [1, {"x": null}],)"
          R"( "node_id": "ffffffffffffffffffffffffffffffffffffffff", "saved_at": 0, "contacts": [)"
          R"({"id": "0123456789abcdef0123456789abcdef01234567", "host": "fe80::1", "port": 65535},)"
          R"( {"id": "0123456789abcdef0123456789abcdef01234567", "host": "127.0.0.1", "port": 2}]})");
  out.put("node_state", "version-2",
          R"({"format": "sova-dc node state", "version": 2, "node_id": "", "contacts": []})");
}

}  // namespace

void console_seeds(const writer& out) {
  admin_script(out);
  node_state(out);
}

}  // namespace sova::fuzz::seeds
