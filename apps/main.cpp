// sova-dc: one program, one subcommand per job.

#include <iostream>

#include <CLI/CLI.hpp>

#include "apps/admin_command.hpp"
#include "apps/backend_command.hpp"
#include "apps/client_command.hpp"
#include "apps/config_layers.hpp"
#include "apps/demo_command.hpp"
#include "apps/dht_command.hpp"
#include "apps/node_command.hpp"

int main(int argc, char** argv) {
  using namespace sova::apps;
  CLI::App app{"sova-dc: a peer-to-peer network sharing SOVA ASR and TTS computing"};
  app.set_version_flag("--version", std::string("sova-dc ") + SOVA_DC_VERSION);
  app.require_subcommand(1);
  node_options node;
  dht_options dht;
  auto* node_cmd = add_node_command(app, node);
  auto* dht_cmd = add_dht_command(app, dht);
  auto backend = add_backend_commands(app);
  auto client = add_client_commands(app);
  auto demo = add_demo_command(app);
  auto admin = add_admin_command(app);
  try {
    parse_layered(app, argc, argv, *node_cmd, node.config);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  if (node_cmd->parsed()) return run_node(node);
  if (dht_cmd->parsed()) return run_dht(dht);
  if (backend.backend->parsed() || backend.worker->parsed()) return run_backend_commands(backend);
  if (client.asr->parsed() || client.tts->parsed() || client.client->parsed())
    return run_client_commands(client);
  if (demo.cmd->parsed()) return run_demo(demo);
  if (admin.cmd->parsed()) return run_admin(admin);
  return exit_usage;
}
