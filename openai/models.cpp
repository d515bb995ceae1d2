#include "openai/models.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "http/text.hpp"
#include "openai/errors.hpp"

namespace sova::openai {

std::optional<net::wanted_kind> kind_for_model(net::service service, std::string_view model,
                                               net::wanted_kind fallback, http::response* error) {
  constexpr std::string_view ours = "sova-";
  if (model.substr(0, ours.size()) != ours) return fallback;  // OpenAI's names, or none
  auto base = std::string(ours) + net::to_string(service);
  if (model == base) return fallback;
  if (model == base + "-cpu") return net::wanted_kind::cpu;
  if (model == base + "-gpu") return net::wanted_kind::gpu;
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
    ids.insert(std::string("sova-") + net::to_string(b.service));
    ids.insert(std::string("sova-") + net::to_string(b.service) + "-" + net::to_string(b.kind));
  }
  auto data = nlohmann::json::array();
  for (const auto& id : ids)
    data.push_back({{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "sova-dc"}});
  return nlohmann::json{{"object", "list"}, {"data", std::move(data)}}.dump();
}

}  // namespace sova::openai
