#include "scheduler/io_actor_clock.hpp"

#include <boost/asio/steady_timer.hpp>

#include "http/io_runtime_impl.hpp"

namespace sova::scheduler {

struct io_actor_clock::timer {
  explicit timer(boost::asio::io_context& io) : t(io) {}
  boost::asio::steady_timer t;
  bool armed = false;
  time_point due;
};

io_actor_clock::io_actor_clock(std::shared_ptr<http::io_runtime> io)
    : timer_(std::make_unique<timer>(io->internals().io)) {}

io_actor_clock::~io_actor_clock() = default;

void io_actor_clock::rearm() {
  if (stopped_) return;
  if (schedule_.empty()) {
    if (timer_->armed) timer_->t.cancel();
    timer_->armed = false;
    return;
  }
  auto due = schedule_.begin()->first;
  if (timer_->armed && timer_->due == due) return;
  timer_->armed = true;
  timer_->due = due;
  timer_->t.expires_at(due);  // cancels the earlier wait, whose handler sees the abort
  timer_->t.async_wait([this](const boost::system::error_code& ec) {
    if (ec != boost::asio::error::operation_aborted) on_timer();
  });
}

void io_actor_clock::on_timer() {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  timer_->armed = false;
  if (stopped_) return;
  trigger_expired_timeouts();
  rearm();
}

#define SOVA_CLOCK_LOCKED(call)                      \
  std::lock_guard<std::recursive_mutex> guard{mtx_}; \
  if (stopped_) return;                              \
  simple_actor_clock::call;                          \
  rearm()

void io_actor_clock::set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                                          caf::atom_value type, uint64_t id) {
  SOVA_CLOCK_LOCKED(set_ordinary_timeout(t, self, type, id));
}

void io_actor_clock::set_multi_timeout(time_point t, caf::abstract_actor* self,
                                       caf::atom_value type, uint64_t id) {
  SOVA_CLOCK_LOCKED(set_multi_timeout(t, self, type, id));
}

void io_actor_clock::set_request_timeout(time_point t, caf::abstract_actor* self,
                                         caf::message_id id) {
  SOVA_CLOCK_LOCKED(set_request_timeout(t, self, id));
}

void io_actor_clock::cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) {
  SOVA_CLOCK_LOCKED(cancel_ordinary_timeout(self, type));
}

void io_actor_clock::cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) {
  SOVA_CLOCK_LOCKED(cancel_request_timeout(self, id));
}

void io_actor_clock::cancel_timeouts(caf::abstract_actor* self) {
  SOVA_CLOCK_LOCKED(cancel_timeouts(self));
}

void io_actor_clock::schedule_message(time_point t, caf::strong_actor_ptr receiver,
                                      caf::mailbox_element_ptr content) {
  SOVA_CLOCK_LOCKED(schedule_message(t, std::move(receiver), std::move(content)));
}

void io_actor_clock::schedule_message(time_point t, caf::group target,
                                      caf::strong_actor_ptr sender, caf::message content) {
  SOVA_CLOCK_LOCKED(schedule_message(t, std::move(target), std::move(sender), std::move(content)));
}

void io_actor_clock::cancel_all() {
  SOVA_CLOCK_LOCKED(cancel_all());
}

#undef SOVA_CLOCK_LOCKED

void io_actor_clock::stop() {
  std::lock_guard<std::recursive_mutex> guard{mtx_};
  if (stopped_) return;
  simple_actor_clock::cancel_all();
  if (timer_->armed) timer_->t.cancel();
  timer_->armed = false;
  stopped_ = true;
}

}  // namespace sova::scheduler
