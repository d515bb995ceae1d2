#include "http/io_runtime.hpp"
#include "http/io_runtime_impl.hpp"

#include <algorithm>

namespace sova::http {

std::shared_ptr<io_runtime> io_runtime::start(std::size_t threads) {
  auto n = std::max<std::size_t>(1, threads);
  std::shared_ptr<io_runtime> rt(new io_runtime());
  rt->impl_ = std::make_shared<impl>(n);
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
