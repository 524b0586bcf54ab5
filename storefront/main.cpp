// cunhuo: the service binary.
//   cunhuo [serve] [--flag value ...]   run the service (see core/config.hpp for flags)
//   cunhuo migrate [--flag value ...]   apply migrations and load the seed, then exit
#include <spdlog/spdlog.h>

#include <iostream>

#include "core/config.hpp"
#include "core/log.hpp"
#include "storefront/app.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    command = args[0];
    args.erase(args.begin());
  }
  if (command == "help" || command == "--help") {
    std::cout << "usage: cunhuo [serve|migrate] [--listen HOST:PORT] [--db URL] [--seed NAME|FILE|none] ...\n";
    return 0;
  }
  auto config = cunhuo::load_config(args, cunhuo::environment_map());
  if (!config.ok()) {
    std::cerr << "cunhuo: " << config.error().message << "\n";
    return 2;
  }
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
