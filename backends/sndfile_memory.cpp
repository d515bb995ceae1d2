#include "backends/sndfile_memory.hpp"

#include <algorithm>
#include <cstdio>

namespace sova::backends {

sndfile_memory::sndfile_memory(std::string_view bytes) : writable_(false), reading_(bytes) {}

sndfile_memory::sndfile_memory() : writable_(true) {}

sndfile_ptr sndfile_memory::open(int mode, SF_INFO& info) {
  SF_VIRTUAL_IO io{length, seek, read, write, tell};  // libsndfile keeps a copy
  return sndfile_ptr(sf_open_virtual(&io, mode, &info, this));
}

sf_count_t sndfile_memory::length(void* self) {
  return static_cast<sf_count_t>(static_cast<sndfile_memory*>(self)->bytes().size());
}

sf_count_t sndfile_memory::seek(sf_count_t offset, int whence, void* self) {
  auto* f = static_cast<sndfile_memory*>(self);
  auto size = static_cast<sf_count_t>(f->bytes().size());
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos_ : size;
  // Offsets come from headers, which may lie: clamp instead of overflowing.
  if (offset > 0 && base > size - offset)
    f->pos_ = size;
  else
    f->pos_ = std::clamp<sf_count_t>(base + offset, 0, size);
  return f->pos_;
}

sf_count_t sndfile_memory::read(void* ptr, sf_count_t count, void* self) {
  auto* f = static_cast<sndfile_memory*>(self);
  auto b = f->bytes();
  sf_count_t n = std::clamp<sf_count_t>(count, 0, static_cast<sf_count_t>(b.size()) - f->pos_);
  if (n > 0) std::copy_n(b.data() + f->pos_, n, static_cast<char*>(ptr));
  f->pos_ += n;
  return n;
}

sf_count_t sndfile_memory::write(const void* ptr, sf_count_t count, void* self) {
  auto* f = static_cast<sndfile_memory*>(self);
  if (!f->writable_ || count <= 0) return 0;
  auto end = static_cast<std::size_t>(f->pos_ + count);
  if (end > f->written_.size()) f->written_.resize(end);
  std::copy_n(static_cast<const char*>(ptr), count, f->written_.data() + f->pos_);
  f->pos_ += count;
  return count;
}

sf_count_t sndfile_memory::tell(void* self) { return static_cast<sndfile_memory*>(self)->pos_; }

}  // namespace sova::backends
