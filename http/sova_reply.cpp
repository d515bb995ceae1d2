#include "http/sova_reply.hpp"

#include "http/base64.hpp"

namespace sova::http {

using json = nlohmann::json;

namespace {

std::string text_of(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

/// The message of a reply that carries `response_code` other than 0: our error object's
/// message, or else the original's message in `response`.
std::string failure_message(const json& j) {
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    std::string code = e->contains("code") ? text_of((*e)["code"]) : "";
    std::string msg = e->contains("message") ? text_of((*e)["message"]) : "";
    return code.empty() ? msg : msg.empty() ? code : code + ": " + msg;
  }
  if (auto r = j.find("response"); r != j.end() && !r->is_null()) return text_of(*r);
  return "response_code " + text_of(j["response_code"]) + " without a message";
}

bool failed_code(const json& j) {
  auto c = j.find("response_code");
  return c != j.end() && !(c->is_number_integer() && c->get<long long>() == 0);
}

}  // namespace

std::string excerpt(const std::string& body) {
  std::string s = body.substr(0, 200);
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return body.size() > s.size() ? s + "..." : s;
}

reply_view interpret_reply(const client_response& r) {
  reply_view v;
  v.body = json::parse(r.body, nullptr, false);
  v.is_json = !v.body.is_discarded() && v.body.is_object();
  bool ok_status = r.status >= 200 && r.status < 300;
  if (!ok_status) {
    v.failure = "HTTP " + std::to_string(r.status);
    if (v.is_json && failed_code(v.body))
      v.failure += ": " + failure_message(v.body);
    else if (!r.body.empty())
      v.failure += ": " + excerpt(r.body);
  } else if (!v.is_json) {
    v.failure = "the reply is not a JSON object: " + excerpt(r.body);
  } else if (failed_code(v.body)) {
    v.failure = "the service failed: " + failure_message(v.body);
  }
  return v;
}

std::vector<asr_text> asr_texts(const json& body, std::size_t count) {
  auto r = body.find("r");
  if (r == body.end() || !r->is_array() || r->size() != count)
    return {{"", "unexpected reply: expected \"r\" to list " + std::to_string(count) +
                     " result(s): " + excerpt(body.dump())}};
  std::vector<asr_text> out;
  for (const auto& item : *r) {
    asr_text t;
    if (!item.is_object()) {
      t.failure = "unexpected reply: an element of \"r\" is not an object";
    } else if (failed_code(item)) {
      t.failure = "the service failed: " + failure_message(item);
    } else if (auto segs = item.find("response"); segs == item.end() || !segs->is_array()) {
      t.failure = "unexpected reply: no \"response\" list in an element of \"r\"";
    } else {
      for (const auto& s : *segs) {
        if (!s.is_object() || !s.contains("text") || !s["text"].is_string()) {
          t.failure = "unexpected reply: a \"response\" element without \"text\"";
          break;
        }
        const auto& piece = s["text"].get_ref<const std::string&>();
        if (!piece.empty()) t.text += (t.text.empty() ? "" : " ") + piece;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

tts_audio tts_audio_of(const json& body) {
  tts_audio a;
  auto r = body.find("response");
  if (r == body.end() || !r->is_array() || r->empty() || !(*r)[0].is_object()) {
    a.failure = "unexpected reply: no \"response\" list: " + excerpt(body.dump());
    return a;
  }
  const auto& item = (*r)[0];
  auto audio = item.find("response_audio");
  std::optional<std::string> bytes;
  if (audio != item.end() && audio->is_string())
    bytes = base64_decode(audio->get_ref<const std::string&>());
  if (!bytes) {
    a.failure = "unexpected reply: response[0].response_audio is missing or not base64";
    return a;
  }
  a.bytes = std::move(*bytes);
  if (auto d = item.find("duration_s"); d != item.end() && d->is_number())
    a.duration_s = d->get<double>();
  if (auto s = item.find("sample_rate"); s != item.end() && s->is_number_integer())
    a.sample_rate = s->get<long long>();
  return a;
}

}  // namespace sova::http
