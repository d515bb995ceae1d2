#include "openai/models.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "http/text.hpp"
#include "openai/errors.hpp"

namespace sova::openai {

std::optional<std::string> kind_for_model(std::string_view service, std::string_view model,
                                          const std::string& fallback, http::response* error) {
  constexpr std::string_view ours = "sova-";
  if (model.substr(0, ours.size()) != ours) return fallback;  // OpenAI's names, or none
  auto base = std::string(ours) + std::string(service);
  if (model == base) return fallback;
  if (model == base + "-cpu") return std::string("cpu");
  if (model == base + "-gpu") return std::string("gpu");
  if (error)
    *error = error_reply(400, "model_not_found",
                         "model '" + http::shown(model) + "' is not one of " + base + ", " + base +
                             "-cpu, " + base + "-gpu (GET /v1/models lists what is offered now)",
                         "model");
  return std::nullopt;
}

std::string models_document(const std::vector<net::service_record>& backends,
                            const std::vector<std::string>& unusable) {
  std::set<std::string> ids;
  for (const auto& b : backends) {
    if (std::find(unusable.begin(), unusable.end(), b.to_string()) != unusable.end()) continue;
    if (b.service != "asr" && b.service != "tts") continue;
    if (b.backend != "cpu" && b.backend != "gpu") continue;
    ids.insert("sova-" + b.service);
    ids.insert("sova-" + b.service + "-" + b.backend);
  }
  auto data = nlohmann::json::array();
  for (const auto& id : ids)
    data.push_back({{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "sova-dc"}});
  return nlohmann::json{{"object", "list"}, {"data", std::move(data)}}.dump();
}

}  // namespace sova::openai
