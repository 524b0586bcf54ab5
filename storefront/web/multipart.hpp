// multipart/form-data (RFC 7578), as a browser posts a form with a file: the form's fields
// and its files. Bounded: at most kMaxFormParts parts, each part's headers at most
// kMaxPartHeaderBytes; anything else is refused whole.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storefront/web/page_session.hpp"

namespace cunhuo::storefront::web {

inline constexpr std::size_t kMaxFormParts = 32;
inline constexpr std::size_t kMaxPartHeaderBytes = 1024;
inline constexpr std::size_t kMaxBoundaryBytes = 70;  // RFC 2046

struct FormFile {
  std::string field, filename, content_type;
  std::string_view bytes;  // within the body parsed
};

struct MultipartForm {
  FormFields fields;  // parts without a filename
  std::vector<FormFile> files;
};

// The boundary named by a Content-Type of multipart/form-data; an error for any other type.
Result<std::string> multipart_boundary(std::string_view content_type);
// The parts of `body`; an error (bad_form) when it is not well-formed.
Result<MultipartForm> parse_multipart(std::string_view body, std::string_view boundary);

}  // namespace cunhuo::storefront::web
