// Pages rendered from mustache templates compiled into the binary (files under
// storefront/web/templates). A page is its template rendered, then placed in the layout
// (layout.mustache), which carries the title, the language, the hashed stylesheet and the
// account bar. Every {{value}} is HTML-escaped; {{{value}}} is only for HTML this code
// built. Every template is also a partial of every other: {{> product_card}}.
//
//   web::View view;
//   view.set("campaigns", campaign_list);
//   std::string html = web::Templates::builtin().page("home", view, chrome);
#pragma once

#include <kainjow/mustache.hpp>

#include <string>
#include <string_view>

namespace cunhuo::storefront::web {

using View = kainjow::mustache::data;
using ViewList = kainjow::mustache::list;

enum class Lang { zh, en };
std::string_view to_string(Lang lang);  // "zh-CN", "en"

// What the layout shows around every page.
struct Chrome {
  std::string title;
  Lang lang = Lang::zh;
  std::string account_name;  // "" when no one is signed in
  std::string csrf;          // the form token of this visitor, for the logout form
  std::string path;          // the page's own path, for the language switch
};

class Templates {
 public:
  // Parses every embedded template once; a template that does not parse stops the start.
  static const Templates& builtin();

  // `name` (without .mustache) rendered with `view`; the texts of `lang` are under t.*
  std::string render(std::string_view name, View view, Lang lang) const;
  // The same, placed in the layout.
  std::string page(std::string_view name, View view, const Chrome& chrome) const;

  bool has(std::string_view name) const;

 private:
  Templates();
};

// The user-facing texts, by key, in each language: the templates read them as {{t.key}}.
View texts(Lang lang);
// One text, for messages built in code (an error shown on a form).
std::string_view text(std::string_view key, Lang lang);

}  // namespace cunhuo::storefront::web
