// cunhuo: the service binary.
//   cunhuo [serve] [--flag value ...]   run the service (see core/config.hpp for flags)
//   cunhuo migrate [--flag value ...]   apply migrations and load the seed, then exit
//   cunhuo verify-statement FILE [--data-dir DIR]
//                                       is FILE a genuine, unaltered income statement
//                                       signed by this platform's key? (exit 0 yes, 1 no)
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include "core/config.hpp"
#include "core/log.hpp"
#include "payments/statements.hpp"
#include "storefront/app.hpp"

namespace {

// The platform's public key comes from its own key file, never from the statement.
int verify_statement(const std::string& file, const cunhuo::Config& config) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << file << "\n";
    return 2;
  }
  const std::string document((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  auto key = cunhuo::payments::SigningKey::load(config.data_dir + "/keys/statement-ed25519.key");
  if (!key.ok()) {
    std::cerr << key.error().message << "\n";
    return 2;
  }
  const auto verdict = cunhuo::payments::verify_statement(document, key->public_key());
  if (verdict.genuine) {
    std::cout << "genuine: signed by key " << key->serial() << " and unaltered\n";
    return 0;
  }
  std::cout << "NOT genuine: " << verdict.reason << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    command = args[0];
    args.erase(args.begin());
  }
  if (command == "help" || command == "--help") {
    std::cout << "usage: cunhuo [serve|migrate] [--listen HOST:PORT] [--db URL] [--seed "
                 "NAME|FILE|none] ...\n"
                 "       cunhuo verify-statement FILE [--data-dir DIR]\n";
    return 0;
  }
  std::string statement_file;
  if (command == "verify-statement") {
    if (args.empty() || args[0].rfind("--", 0) == 0) {
      std::cerr << "usage: cunhuo verify-statement FILE [--data-dir DIR]\n";
      return 2;
    }
    statement_file = args[0];
    args.erase(args.begin());
  }
  auto config = cunhuo::load_config(args, cunhuo::environment_map());
  if (!config.ok()) {
    std::cerr << "cunhuo: " << config.error().message << "\n";
    return 2;
  }
  if (command == "verify-statement") return verify_statement(statement_file, *config);
  cunhuo::init_logging(config->log_level);
  if (command == "serve") return cunhuo::storefront::serve(*config);
  if (command == "migrate") {
    cunhuo::SystemClock clock;
    auto app = cunhuo::storefront::App::open(*config, clock);
    if (!app.ok()) {
      spdlog::critical("migrate failed: {}", app.error().message);
      return 1;
    }
    return 0;
  }
  std::cerr << "cunhuo: unknown command " << command << "\n";
  return 2;
}
