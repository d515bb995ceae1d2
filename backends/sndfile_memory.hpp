#pragma once
// An audio file held in memory, opened by libsndfile through its virtual I/O: read from
// bytes the caller keeps (decoding), or written into a string that grows (encoding; the
// encoders seek back to fill in their headers). Used by audio_decode and audio_encode.

#include <sndfile.h>

#include <memory>
#include <string>
#include <string_view>

namespace sova::backends {

struct sndfile_closer {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using sndfile_ptr = std::unique_ptr<SNDFILE, sndfile_closer>;

class sndfile_memory {
public:
  /// A file to read: `bytes`, which must outlive this object and what it opens.
  explicit sndfile_memory(std::string_view bytes);
  /// A file to write, empty until written.
  sndfile_memory();
  sndfile_memory(const sndfile_memory&) = delete;
  sndfile_memory& operator=(const sndfile_memory&) = delete;

  /// sf_open_virtual on this file (SFM_READ, or SFM_WRITE on a file to write); null when
  /// libsndfile refuses it (sf_strerror(nullptr) says why). Close it before this object goes.
  sndfile_ptr open(int mode, SF_INFO& info);

  /// What was written so far, taken out (close the SNDFILE first: closing finishes it).
  std::string take_written() { return std::move(written_); }

private:
  static sf_count_t length(void* self);
  static sf_count_t seek(sf_count_t offset, int whence, void* self);
  static sf_count_t read(void* ptr, sf_count_t count, void* self);
  static sf_count_t write(const void* ptr, sf_count_t count, void* self);
  static sf_count_t tell(void* self);

  std::string_view bytes() const { return writable_ ? std::string_view(written_) : reading_; }

  const bool writable_;
  std::string_view reading_;
  std::string written_;
  sf_count_t pos_ = 0;
};

}  // namespace sova::backends
