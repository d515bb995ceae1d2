#include "admin/render.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

namespace sova::admin {

namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view none_text = "(none)";
constexpr std::string_view gap = "  ";  // between a key and its value, between columns

// Display width: UTF-8 continuation bytes take no column of their own.
std::size_t width_of(std::string_view text) {
  auto starts_char = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_char));
}

void pad_to(std::string& out, std::string_view text, std::size_t width) {
  out += text;
  auto w = width_of(text);
  if (w < width) out.append(width - w, ' ');
}

// At most three decimals: 1.5, 0.125, 12, 1234.568; never "-0".
std::string format_float(double value) {
  int n = std::snprintf(nullptr, 0, "%.3f", value);
  if (n < 0) return std::to_string(value);
  std::string text(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(text.data(), text.size(), "%.3f", value);
  text.resize(static_cast<std::size_t>(n));
  if (text.find('.') != std::string::npos) {
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

std::string format_scalar(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::boolean: return v.get<bool>() ? "yes" : "no";
    case json::value_t::null: return "-";
    case json::value_t::number_float: return format_float(v.get<double>());
    default: return v.dump();  // integers, and anything structured as compact JSON
  }
}

bool all_primitive(const json& array) {
  return std::all_of(array.begin(), array.end(), [](const json& v) { return v.is_primitive(); });
}

bool is_table(const json& v) {
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_object(); });
}

// An array on one line: "a, b, c"; structured elements as compact JSON.
std::string join_array(const json& array) {
  if (array.empty()) return std::string(none_text);
  std::string out;
  for (const auto& v : array) {
    if (!out.empty()) out += ", ";
    out += format_scalar(v);
  }
  return out;
}

// What goes after "key  ": only members that are neither tables nor non-empty objects.
std::string inline_value(const json& v) {
  if (v.is_array()) return join_array(v);
  if (v.is_object()) return std::string(none_text);  // an empty object
  return format_scalar(v);
}

bool is_block(const json& v) { return is_table(v) || (v.is_object() && !v.empty()); }

std::string table_cell(const json& row, const std::string& column) {
  auto it = row.find(column);
  if (it == row.end() || it->is_null()) return "-";
  if (it->is_array() && all_primitive(*it)) return join_array(*it);
  if (it->is_structured()) return it->dump();
  return format_scalar(*it);
}

void append_row(std::string& out, std::string_view indent, const std::vector<std::string>& cells,
                const std::vector<std::size_t>& widths) {
  std::string line(indent);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += gap;
    pad_to(line, cells[i], i + 1 < cells.size() ? widths[i] : 0);
  }
  line.erase(line.find_last_not_of(' ') + 1);  // an empty last cell leaves blanks behind
  out += line;
  out += '\n';
}

void render_table(std::string& out, const json& rows, std::string_view indent) {
  std::vector<std::string> columns;  // union of the keys, first seen first
  for (const auto& row : rows)
    for (const auto& member : row.items())
      if (std::find(columns.begin(), columns.end(), member.key()) == columns.end())
        columns.push_back(member.key());
  if (columns.empty()) {  // only empty objects: a header row of nothing helps nobody
    out += std::string(indent) + std::string(none_text) + "\n";
    return;
  }
  std::vector<std::vector<std::string>> cells{columns};
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (const auto& column : columns) line.push_back(table_cell(row, column));
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> widths(columns.size(), 0);
  for (const auto& line : cells)
    for (std::size_t i = 0; i < line.size(); ++i)
      widths[i] = std::max(widths[i], width_of(line[i]));
  for (const auto& line : cells) append_row(out, indent, line, widths);
}

std::string key_value_line(const std::string& indent, const std::string& key,
                           std::size_t key_width, const std::string& value) {
  std::string line = indent;
  pad_to(line, key, key_width);
  if (value.empty()) return line.erase(line.find_last_not_of(' ') + 1) + "\n";  // no blanks
  return line + std::string(gap) + value + "\n";
}

void render_object(std::string& out, const json& object, const std::string& indent) {
  std::size_t key_width = 0;
  for (const auto& member : object.items())
    if (!is_block(member.value())) key_width = std::max(key_width, width_of(member.key()));
  for (const auto& member : object.items()) {
    const json& value = member.value();
    if (!is_block(value)) {
      out += key_value_line(indent, member.key(), key_width, inline_value(value));
      continue;
    }
    out += indent + member.key() + ":\n";
    if (value.is_object())
      render_object(out, value, indent + std::string(gap));
    else
      render_table(out, value, indent + std::string(gap));
  }
}

}  // namespace

std::string render_text(const json& result) {
  std::string out;
  if (result.is_object()) {
    render_object(out, result, "");
  } else if (is_table(result)) {
    render_table(out, result, "");
  } else if (result.is_array()) {
    if (result.empty()) return std::string(none_text) + "\n";
    for (const auto& v : result) out += format_scalar(v) + "\n";
  } else {
    out = format_scalar(result) + "\n";
  }
  return out;
}

}  // namespace sova::admin
