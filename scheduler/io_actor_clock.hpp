#pragma once
// CAF's timeouts and delayed messages on an Asio io_context: CAF's own schedule
// (detail::simple_actor_clock) under a lock, woken by one steady_timer on the io thread.
// CAF's threaded clock would need a thread of its own and wake it on every actor exit.

#include <memory>
#include <mutex>

#include <caf/detail/simple_actor_clock.hpp>

namespace sova::http {
class io_runtime;
}

namespace sova::scheduler {

class io_actor_clock final : public caf::detail::simple_actor_clock {
public:
  explicit io_actor_clock(std::shared_ptr<http::io_runtime> io);
  ~io_actor_clock() override;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                            uint64_t id) override;
  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                         uint64_t id) override;
  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override;
  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override;
  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override;
  void cancel_timeouts(caf::abstract_actor* self) override;
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override;
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override;
  void cancel_all() override;

  /// Drops what is scheduled and lets go of the io_context (its timer waits no more).
  void stop();

private:
  struct timer;
  /// Points the timer at the earliest entry (or nowhere); with the lock held.
  void rearm();
  void on_timer();

  std::recursive_mutex mtx_;  // shipping an event may end an actor that cancels its own
  std::unique_ptr<timer> timer_;
  bool stopped_ = false;
};

}  // namespace sova::scheduler
