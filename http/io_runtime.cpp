#include "http/io_runtime.hpp"
#include "http/io_runtime_impl.hpp"

#include <malloc.h>

#include <algorithm>

#include <boost/asio/post.hpp>

namespace sova::http {

namespace {

/// glibc takes no mmap threshold over 32 MiB.
constexpr std::size_t max_mmap_threshold = 32u << 20;

void give_back_free_memory_every(const std::shared_ptr<io_runtime::impl>& state,
                                 std::chrono::milliseconds every) {
  state->heap_timer->expires_after(every);
  state->heap_timer->async_wait([state, every](const boost::system::error_code& ec) {
    if (ec || state->stopping) return;
    malloc_trim(0);
    give_back_free_memory_every(state, every);
  });
}

}  // namespace

std::shared_ptr<io_runtime> io_runtime::start(std::size_t threads, heap_policy heap) {
  auto n = std::max<std::size_t>(1, threads);
  std::shared_ptr<io_runtime> rt(new io_runtime());
  rt->impl_ = std::make_shared<impl>(n);
  if (heap.kept > 0) {
    // One heap: glibc's malloc_trim gives back only the main heap's top, not a thread
    // heap's, and the io threads would each allocate from one of those.
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min(heap.kept, max_mmap_threshold)));
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(heap.kept, 1u << 30)));
    rt->impl_->heap_timer.emplace(rt->impl_->io);
    give_back_free_memory_every(rt->impl_, heap.give_back_every);
  }
  // Each thread keeps the state alive: a thread that stop() could not join (it called
  // stop() itself) may outlive the runtime object.
  for (std::size_t i = 0; i < n; ++i)
    rt->impl_->threads.emplace_back([state = rt->impl_] {
      for (;;) {
        try {
          state->io.run();
          return;
        } catch (...) {  // one failed completion handler must not end the thread
        }
      }
    });
  return rt;
}

io_runtime::~io_runtime() { stop(); }

void io_runtime::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->stopping = true;
    boost::asio::post(impl_->io, [state = impl_] {  // the timer is work left otherwise
      if (state->heap_timer) state->heap_timer->cancel();
    });
    impl_->work.reset();
    for (auto& t : impl_->threads) {
      if (t.get_id() == std::this_thread::get_id())
        t.detach();
      else
        t.join();
    }
  });
}

}  // namespace sova::http
