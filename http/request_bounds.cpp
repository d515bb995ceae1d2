#include "http/request_bounds.hpp"

#include <string>

namespace sova::http {

namespace {

class bound_category_impl : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "sova.http.bound"; }
  std::string message(int e) const override {
    switch (static_cast<bound_error>(e)) {
      case bound_error::chunk_line: return "chunk size line over the header limit";
      case bound_error::chunk_extensions: return "chunk extensions over the header limit";
      case bound_error::trailer: return "trailer over the header limit";
      case bound_error::too_many_fields: return "more fields than the field limit";
      case bound_error::body_budget: return "no room left in the body budget";
    }
    return "unknown bound";
  }
};

}  // namespace

const boost::system::error_category& bound_category() {
  static const bound_category_impl category;
  return category;
}

boost::system::error_code make_error_code(bound_error e) {
  return {static_cast<int>(e), bound_category()};
}

bound_error overlong_chunk_part(std::string_view pending) {
  if (pending.substr(0, 2) == "\r\n") pending.remove_prefix(2);
  auto eol = pending.find("\r\n");
  if (eol == std::string_view::npos) return bound_error::chunk_line;
  // A complete line still pending is the last chunk's (1*"0"): Beast consumes any other.
  auto line = pending.substr(0, eol);
  auto digits = line.substr(0, line.find_first_not_of("0123456789abcdefABCDEF"));
  bool last = !digits.empty() && digits.find_first_not_of('0') == std::string_view::npos;
  return last ? bound_error::trailer : bound_error::chunk_line;
}

boost::system::error_code count_chunk_extensions(std::size_t& total, std::size_t bytes) {
  total += bytes;
  if (total > head_limit) return bound_error::chunk_extensions;
  return {};
}

}  // namespace sova::http
