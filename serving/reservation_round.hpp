#pragma once
// One round of late binding (docs/owner-queue.md): a request's reservations placed at
// several owners at once; the first owner to grant one gets the job, every other
// reservation is given up. Pure bookkeeping, no I/O: the request actor reports each
// owner's answer and does what comes back.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sova::serving {

class reservation_round {
public:
  /// Reservations placed at `owners` owners, numbered 0..owners-1, none answered yet.
  explicit reservation_round(std::size_t owners) : slots_(owners, slot::pending) {}

  struct step {
    std::optional<std::size_t> claim;  // send the job to this owner, on the slot it holds
    std::vector<std::size_t> cancel;   // give these reservations up (DELETE / cancel)
    bool exhausted = false;  // every owner refused and none granted: place the job elsewhere
  };

  /// Owner `i` holds a slot. The first grant is claimed and the reservations still
  /// waiting elsewhere are cancelled; a grant after that is cancelled at once (again, if
  /// its cancel crossed the grant on the way).
  step granted(std::size_t i);
  /// Owner `i` will not grant (full, no backend up, timed out, unreachable, not a node).
  step refused(std::size_t i);

  std::optional<std::size_t> winner() const { return winner_; }
  std::size_t size() const { return slots_.size(); }
  /// Reservations whose owner has not answered yet (cancelled ones excluded).
  std::size_t pending() const;

private:
  enum class slot : std::uint8_t { pending, granted, refused, cancelled };
  std::vector<slot> slots_;
  std::optional<std::size_t> winner_;
};

}  // namespace sova::serving
