#pragma once
// A text as Python's float() reads it: SOVA TTS passes `rate`, `pitch` and `volume`
// through float(), so it takes numeric strings ("1.2", " 1e-1 ") as well as numbers, and
// its own web page sends strings. The node checks them with it; the reference TTS
// backend reads them with it. Pure code.

#include <optional>
#include <string_view>

namespace sova::http {

/// What Python's float() makes of `s`: ASCII whitespace around, an optional sign, then
/// decimal digits with an optional point and exponent (single underscores between digits,
/// as PEP 515 allows), or inf, infinity, nan in any case. Values beyond double's range are
/// infinite, as in Python. Nothing when float() would raise (non-ASCII digits and spaces,
/// which float() also reads, are refused). Independent of the process's locale.
std::optional<double> python_float(std::string_view s);

}  // namespace sova::http
