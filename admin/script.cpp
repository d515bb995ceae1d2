#include "admin/script.hpp"

#include <utility>

namespace sova::admin {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// A single pass over the text; `pos_` always points at the next unread character.
class script_parser {
public:
  explicit script_parser(std::string_view text) : text_(text) {}

  parsed_script run() {
    while (pos_ < text_.size() && error_.empty()) step();
    if (!error_.empty()) return {{}, std::move(error_)};
    end_command();
    return {std::move(commands_), {}};
  }

private:
  void step() {
    char c = text_[pos_];
    if (c == '\n') {
      end_command();
      ++line_;
      ++pos_;
    } else if (c == ';') {
      end_command();
      ++pos_;
    } else if (is_blank(c)) {
      end_word();
      ++pos_;
    } else if (c == '#' && !in_word_) {
      skip_comment();
    } else if (c == '\'') {
      single_quoted();
    } else if (c == '"') {
      double_quoted();
    } else if (c == '\\') {
      escaped();
    } else {
      start_word();
      word_ += c;
      ++pos_;
    }
  }

  void start_word() {
    if (in_word_) return;
    in_word_ = true;
    if (words_.empty()) command_line_ = line_;
  }

  void end_word() {
    if (!in_word_) return;
    words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
  }

  void end_command() {
    end_word();
    if (!words_.empty()) commands_.push_back({std::move(words_), command_line_});
    words_.clear();
  }

  // Up to the newline, which still ends the command.
  void skip_comment() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  }

  // Appends text_[pos_] and keeps the line count right for newlines inside words.
  void take_char() {
    if (text_[pos_] == '\n') ++line_;
    word_ += text_[pos_++];
  }

  void single_quoted() {
    start_word();
    std::size_t opened = line_;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '\'') take_char();
    if (pos_ == text_.size()) return unterminated('\'', opened);
    ++pos_;
  }

  void double_quoted() {
    start_word();
    std::size_t opened = line_;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      bool escape = text_[pos_] == '\\' && pos_ + 1 < text_.size() &&
                    (text_[pos_ + 1] == '"' || text_[pos_ + 1] == '\\');
      if (escape) ++pos_;  // drop the backslash, keep what it escapes
      take_char();
    }
    if (pos_ == text_.size()) return unterminated('"', opened);
    ++pos_;
  }

  // A backslash outside quotes: the next character is literal. Before a newline it joins
  // the two lines, as in a shell, so long commands can be split in a script.
  void escaped() {
    if (pos_ + 1 == text_.size()) {
      error_ = "line " + std::to_string(line_) + ": backslash at the end of the text";
      return;
    }
    ++pos_;
    if (text_[pos_] == '\n') {
      ++line_;
      ++pos_;
      return;
    }
    start_word();
    take_char();
  }

  void unterminated(char quote, std::size_t opened) {
    error_ = "line " + std::to_string(opened) + ": unterminated " + quote + " quote";
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::vector<script_command> commands_;
  std::vector<std::string> words_;
  std::size_t command_line_ = 0;
  std::string word_;
  bool in_word_ = false;
  std::string error_;
};

}  // namespace

parsed_script parse_script(std::string_view text) { return script_parser(text).run(); }

}  // namespace sova::admin
