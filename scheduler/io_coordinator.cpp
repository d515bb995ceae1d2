#include "scheduler/io_coordinator.hpp"

#include <utility>

#include <boost/asio/post.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "http/io_runtime.hpp"
#include "http/io_runtime_impl.hpp"
#include "scheduler/io_actor_clock.hpp"

namespace sova::scheduler {

namespace {

class io_coordinator;

/// Where actors resumed by this coordinator schedule the actors they wake.
class io_unit final : public caf::execution_unit {
public:
  io_unit(caf::actor_system& sys, io_coordinator& owner) : execution_unit(&sys), owner_(owner) {}
  void exec_later(caf::resumable* job) override;

private:
  io_coordinator& owner_;
};

class io_coordinator final : public caf::scheduler::abstract_coordinator {
public:
  io_coordinator(caf::actor_system& sys, std::shared_ptr<http::io_runtime> io)
      : abstract_coordinator(sys), io_(std::move(io)), clock_(io_), unit_(sys, *this) {}

  /// Called with a reference CAF added for this turn: the posted job owns it.
  void enqueue(caf::resumable* ptr) override {
    boost::asio::post(io_->internals().io, turn{this, ptr});
  }

  caf::actor_clock& clock() noexcept override { return clock_; }

  void init(caf::actor_system_config& cfg) override {
    abstract_coordinator::init(cfg);
    max_throughput_ = io_max_throughput;
  }

  void stop() override {
    stop_actors();  // the printer (aout), a detached actor of its own
    clock_.stop();
    io_->stop();  // runs what is still posted (the last exits), then joins the io threads
  }

private:
  /// One turn of an actor on the io thread; unrun (the io_context went away first), it
  /// cleans the actor up instead.
  struct turn {
    io_coordinator* owner;
    caf::resumable* job;

    turn(io_coordinator* o, caf::resumable* j) : owner(o), job(j) {}
    turn(turn&& other) noexcept : owner(other.owner), job(std::exchange(other.job, nullptr)) {}
    turn(const turn&) = delete;
    turn& operator=(const turn&) = delete;
    turn& operator=(turn&&) = delete;
    ~turn() {
      if (job) abstract_coordinator::cleanup_and_release(job);
    }
    void operator()() { owner->resume(std::exchange(job, nullptr)); }
  };

  void resume(caf::resumable* job) {
    switch (job->resume(&unit_, max_throughput_)) {
      case caf::resumable::resume_later:
        enqueue(job);  // behind the socket completions queued meanwhile; keeps the reference
        break;
      case caf::resumable::awaiting_message:
      case caf::resumable::done:
      case caf::resumable::shutdown_execution_unit:
        caf::intrusive_ptr_release(job);
        break;
    }
  }

  std::shared_ptr<http::io_runtime> io_;
  io_actor_clock clock_;
  io_unit unit_;
};

void io_unit::exec_later(caf::resumable* job) { owner_.enqueue(job); }

}  // namespace

void run_actors_on(caf::actor_system_config& cfg, std::shared_ptr<http::io_runtime> io) {
  cfg.module_factories.push_back([io](caf::actor_system& sys) -> caf::actor_system::module* {
    return new io_coordinator(sys, io);
  });
}

}  // namespace sova::scheduler
