// cunhuo: the service binary.
//   cunhuo [serve] [--flag value ...]   run the service (see core/config.hpp for flags)
//   cunhuo migrate [--flag value ...]   apply migrations and load the seed, then exit
//   cunhuo verify-statement FILE [--data-dir DIR]
//                                       is FILE a genuine, unaltered income statement
//                                       signed by this platform's key? (exit 0 yes, 1 no)
//   cunhuo backup --to FILE [--db URL]   an online copy of an SQLite store (service running)
//   cunhuo restore --from FILE [--db URL]
//                                       replaces an SQLite store (service stopped) with a
//                                       copy, once the copy passes the check
//   cunhuo check [--db URL]             migrates and checks the store: its ledger balances
//                                       (exit 0 yes, 1 no); a restore runs it before serving
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include "core/config.hpp"
#include "core/log.hpp"
#include "payments/statements.hpp"
#include "storefront/app.hpp"
#include "storefront/store_care.hpp"

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

// Takes `--NAME FILE` (or `--NAME=FILE`) out of the flags; "" when absent.
std::string take_file_flag(std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--" + name && i + 1 < args.size()) {
      std::string file = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + i + 2);
      return file;
    }
    if (args[i].rfind("--" + name + "=", 0) == 0) {
      std::string file = args[i].substr(name.size() + 3);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      return file;
    }
  }
  return "";
}

int report(const char* done, const cunhuo::Status& st) {
  if (!st.ok()) {
    std::cerr << "cunhuo: " << st.error().message << " (" << st.error().code << ")\n";
    return 1;
  }
  std::cout << done << "\n";
  return 0;
}

// backup, restore and check: the store's care, outside the service.
int store_care(const std::string& command, const std::string& file, const cunhuo::Config& config) {
  using namespace cunhuo::storefront;
  if (command == "check")
    return report("the store is sound: the ledger balances", check_store(config.db_url));
  if (file.empty()) {
    std::cerr << "usage: cunhuo backup --to FILE | restore --from FILE [--db URL]\n";
    return 2;
  }
  if (command == "backup") return report("backed up", backup_store(config.db_url, file));
  return report("restored; the ledger balances", restore_store(file, config.db_url));
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
                 "       cunhuo verify-statement FILE [--data-dir DIR]\n"
                 "       cunhuo backup --to FILE | restore --from FILE | check [--db URL]\n";
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
  const bool care = command == "backup" || command == "restore" || command == "check";
  const std::string care_file =
      care && command != "check" ? take_file_flag(args, command == "backup" ? "to" : "from") : "";
  auto config = cunhuo::load_config(args, cunhuo::environment_map());
  if (!config.ok()) {
    std::cerr << "cunhuo: " << config.error().message << "\n";
    return 2;
  }
  if (command == "verify-statement") return verify_statement(statement_file, *config);
  cunhuo::init_logging(config->log_level, config->log_format == "json" ? cunhuo::LogFormat::json
                                                                       : cunhuo::LogFormat::text);
  if (care) return store_care(command, care_file, *config);
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
