// make_seeds CAPTURE.jsonl OUT_DIR: writes OUT_DIR/<harness>/<seed> for every harness.

#include <cstdio>
#include <exception>
#include <fstream>

#include "fuzz/seeds/seeds.hpp"

namespace sova::fuzz::seeds {

void writer::put(std::string_view harness, std::string_view name, std::string_view bytes) const {
  auto dir = root_ / std::string(harness);
  std::filesystem::create_directories(dir);
  std::ofstream file(dir / std::string(name), std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw std::runtime_error("cannot write " + (dir / std::string(name)).string());
}

}  // namespace sova::fuzz::seeds

int main(int argc, char** argv) {
  using namespace sova::fuzz::seeds;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CAPTURE.jsonl OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    writer out{argv[2]};
    auto capture = read_capture(argv[1]);
    wire_seeds(out, capture);
    dht_seeds(out, capture);
    http_seeds(out);
    body_seeds(out);
    console_seeds(out);
    std::printf("make_seeds: %zu captured datagrams, seeds in %s\n", capture.size(), argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
