#include "serving/backend_board.hpp"

namespace sova::serving {

backend_board::backend_board() : current_(std::make_shared<const board_snapshot>()) {}

template <class Change>
void backend_board::change(Change&& f) {
  std::lock_guard<std::mutex> lock(writers_);
  auto next = std::make_shared<board_snapshot>(*std::atomic_load(&current_));
  f(*next);
  for (auto& [key, k] : next->keys) {
    k.ready.clear();
    k.complete = true;
    for (const auto& rec : k.records) {
      auto b = next->backends.find(rec.to_string());
      if (b == next->backends.end())
        k.complete = false;
      else
        k.ready.push_back(b->second);
    }
  }
  std::atomic_store(&current_, std::shared_ptr<const board_snapshot>(std::move(next)));
}

void backend_board::post_records(const std::string& key, const actors::service_records& records) {
  change([&](board_snapshot& s) {
    auto& k = s.keys[key];
    k.records = records;
    if (!k.uses) k.uses = std::make_shared<std::atomic<std::uint64_t>>(0);
  });
}

void backend_board::drop_records(const std::string& key) {
  change([&](board_snapshot& s) { s.keys.erase(key); });
}

std::uint64_t backend_board::key_uses(const std::string& key) const {
  auto s = snapshot();
  auto it = s->keys.find(key);
  return it == s->keys.end() ? 0 : it->second.uses->load(std::memory_order_relaxed);
}

void backend_board::post_backend(const actors::backend_link& b) {
  change([&](board_snapshot& s) { s.backends[b.cell->name] = b; });
}

void backend_board::drop_backend(const net::service_record& record) {
  change([&](board_snapshot& s) { s.backends.erase(record.to_string()); });
}

std::shared_ptr<const board_snapshot> backend_board::snapshot() const {
  return std::atomic_load(&current_);
}

}  // namespace sova::serving
