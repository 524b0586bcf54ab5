#include "storefront/web/templates.hpp"

#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "core/assert.hpp"
#include "storefront/web/assets.hpp"
#include "storefront/web/embedded.hpp"

namespace cunhuo::storefront::web {
namespace {

namespace mu = kainjow::mustache;

constexpr std::string_view kTemplateDir = "templates/";
constexpr std::string_view kTemplateSuffix = ".mustache";

// name -> text of every embedded template.
const std::map<std::string, std::string_view, std::less<>>& sources() {
  static const auto all = [] {
    std::map<std::string, std::string_view, std::less<>> m;
    for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
      std::string_view path = kEmbeddedFiles[i].path;
      if (!path.starts_with(kTemplateDir) || !path.ends_with(kTemplateSuffix)) continue;
      path.remove_prefix(kTemplateDir.size());
      path.remove_suffix(kTemplateSuffix.size());
      m.emplace(std::string(path), kEmbeddedFiles[i].content);
    }
    return m;
  }();
  return all;
}

// A parsed template renders by mutating itself, so each thread keeps its own parse.
mu::mustache& parsed(std::string_view name) {
  thread_local std::map<std::string, std::unique_ptr<mu::mustache>, std::less<>> cache;
  if (auto it = cache.find(name); it != cache.end()) return *it->second;
  auto source = sources().find(name);
  CUNHUO_ASSERT(source != sources().end());
  auto t = std::make_unique<mu::mustache>(std::string(source->second));
  CUNHUO_ASSERT(t->is_valid());
  return *cache.emplace(std::string(name), std::move(t)).first->second;
}

// What every view of a language sees beneath its own keys: the texts ({{t.key}}), whether
// the page is in English, and every template as a partial any other may include. Built once:
// a render only reads it (lookups into a const object), so threads share it.
const View& base_view(Lang lang) {
  static const auto make = [](Lang l) {
    View base{View::type::object};
    base.set("t", texts(l));
    base.set("en", l == Lang::en);
    for (const auto& [name, text] : sources())
      base.set(name, mu::partial([text] { return std::string(text); }));
    return base;
  };
  static const View zh = make(Lang::zh), en = make(Lang::en);
  return lang == Lang::en ? en : zh;
}

}  // namespace

std::string_view to_string(Lang lang) { return lang == Lang::en ? "en" : "zh-CN"; }

const Templates& Templates::builtin() {
  static const Templates templates;
  return templates;
}

Templates::Templates() {
  CUNHUO_ASSERT(!sources().empty());
  for (const auto& [name, text] : sources()) {
    mu::mustache t{std::string(text)};
    if (!t.is_valid()) spdlog::critical("template {}: {}", name, t.error_message());
    CUNHUO_ASSERT(t.is_valid());
  }
}

bool Templates::has(std::string_view name) const { return sources().contains(name); }

std::string Templates::render(std::string_view name, View view, Lang lang) const {
  mu::context<std::string> context(&base_view(lang));
  context.push(&view);  // the view's own keys come first
  auto& t = parsed(name);
  std::string html = t.render(context);
  if (!t.is_valid()) spdlog::critical("template {}: {}", name, t.error_message());
  CUNHUO_ASSERT(t.is_valid());  // a template that renders wrong is a bug, not bad input
  return html;
}

std::string Templates::page(std::string_view name, View view, const Chrome& chrome) const {
  // Every form in the body carries the form token too, not only the layout's own forms.
  view.set("csrf", chrome.csrf);
  View layout;
  layout.set("body", render(name, std::move(view), chrome.lang));
  layout.set("title", chrome.title);
  layout.set("lang", std::string(to_string(chrome.lang)));
  layout.set("css", Assets::builtin().url("site.css"));
  layout.set("js", Assets::builtin().url("site.js"));
  layout.set("path", chrome.path);
  layout.set("csrf", chrome.csrf);
  if (!chrome.account_name.empty()) layout.set("account_name", chrome.account_name);
  return render("layout", std::move(layout), chrome.lang);
}

}  // namespace cunhuo::storefront::web
