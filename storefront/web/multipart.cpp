#include "storefront/web/multipart.hpp"

#include "storefront/http.hpp"

namespace cunhuo::storefront::web {
namespace {

constexpr std::string_view kCrlf = "\r\n";

Error bad_form(std::string message) {
  return make_error(ErrorKind::invalid, "bad_form", std::move(message));
}

// The value of `name="..."` in a Content-Disposition header; "" when absent.
std::string quoted_param(std::string_view header, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  for (std::size_t at = header.find(key); at != std::string_view::npos;
       at = header.find(key, at + 1)) {
    // Not the tail of another parameter's name ("filename" holds "name").
    if (at > 0 && header[at - 1] != ' ' && header[at - 1] != ';') continue;
    const auto start = at + key.size();
    const auto end = header.find('"', start);
    if (end == std::string_view::npos) return "";
    return std::string(header.substr(start, end - start));
  }
  return "";
}

struct PartHead {
  std::string name, filename, content_type;
  bool named = false;
};

Result<PartHead> read_head(std::string_view head) {
  PartHead p;
  while (!head.empty()) {
    const auto end = std::min(head.find(kCrlf), head.size());
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(std::min(end + kCrlf.size(), head.size()));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return bad_form("a part header without a colon");
    const std::string name = ascii_lower(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "content-disposition") {
      if (!ascii_lower(value).starts_with("form-data")) return bad_form("not form-data");
      p.name = quoted_param(value, "name");
      p.filename = quoted_param(value, "filename");
      p.named = !p.name.empty();
    } else if (name == "content-type") {
      p.content_type = ascii_lower(value);
    }
  }
  if (!p.named) return bad_form("a part without a name");
  return p;
}

}  // namespace

Result<std::string> multipart_boundary(std::string_view content_type) {
  const std::string lower = ascii_lower(content_type);
  if (!lower.starts_with("multipart/form-data")) return bad_form("not multipart/form-data");
  const auto at = lower.find("boundary=");
  if (at == std::string::npos) return bad_form("no boundary");
  std::string_view b = content_type.substr(at + 9);
  b = b.substr(0, b.find(';'));
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  if (b.empty() || b.size() > kMaxBoundaryBytes) return bad_form("a bad boundary");
  return std::string(b);
}

Result<MultipartForm> parse_multipart(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  if (!body.starts_with(delimiter)) return bad_form("the body does not start with its boundary");
  const std::string separator = std::string(kCrlf) + delimiter;
  MultipartForm form;
  std::size_t at = delimiter.size();
  for (std::size_t parts = 0;; ++parts) {
    if (body.substr(at, 2) == "--") return form;  // the closing delimiter
    if (parts == kMaxFormParts) return bad_form("too many parts");
    if (body.substr(at, 2) != kCrlf) return bad_form("a boundary not followed by a line end");
    at += 2;
    const auto head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos || head_end - at > kMaxPartHeaderBytes)
      return bad_form("a part's headers do not end");
    auto head = CUNHUO_TRY(read_head(body.substr(at, head_end - at + 2)));
    const auto content_start = head_end + 4;
    const auto content_end = body.find(separator, content_start);
    if (content_end == std::string_view::npos) return bad_form("a part does not end");
    const std::string_view content = body.substr(content_start, content_end - content_start);
    if (head.filename.empty() && head.content_type.empty())
      form.fields.emplace_back(std::move(head.name), std::string(content));
    else
      form.files.push_back(FormFile{.field = std::move(head.name),
                                    .filename = std::move(head.filename),
                                    .content_type = std::move(head.content_type),
                                    .bytes = content});
    at = content_end + separator.size();
  }
}

}  // namespace cunhuo::storefront::web
