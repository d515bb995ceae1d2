#pragma once
// The node's web page: the files of web/static, compiled into the binary at build time
// (web/embed_assets.cmake writes the table), so that every node serves the same page with
// nothing to install beside it. Pure data, no I/O.

#include <string_view>
#include <vector>

namespace sova::web {

struct asset {
  std::string_view path;          // where the node serves it: "/" for index.html, else /ui/<name>
  std::string_view content_type;  // with charset for text
  std::string_view body;
  std::string_view etag;          // quoted: "\"<16 hex digits of the file's SHA-256>\""
};

/// Every file of the page, in the order of their file names.
const std::vector<asset>& assets();

/// The file served at `path` (no query), or nullptr.
const asset* find_asset(std::string_view path);

}  // namespace sova::web
