// Charts drawn on the server: one labelled drawing, the same numbers in a table, every text
// escaped, long traces folded to their peaks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "storefront/web/charts.hpp"

using namespace cunhuo::storefront::web;

namespace {

std::string celsius(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f °C", v);
  return buffer;
}

Chart trace(std::vector<double> values) {
  Chart chart{.title = "冷库温度", .value_text = celsius};
  for (std::size_t i = 0; i < values.size(); ++i) chart.labels.push_back(std::to_string(i));
  chart.series.push_back({.name = "温度", .values = std::move(values)});
  return chart;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a chart is one labelled drawing with its numbers in a table", "[charts]") {
  auto html = line_chart(trace({3.0, 4.5, 9.0}));
  CHECK(html.find("<svg viewBox=") != std::string::npos);
  CHECK(html.find("role=\"img\" aria-label=\"冷库温度\"") != std::string::npos);
  CHECK(html.find("<table class=\"sr-only\"><caption>冷库温度</caption>") != std::string::npos);
  CHECK(html.find("<td>9.0 °C</td>") != std::string::npos);
  CHECK(count(html, "<polyline") == 1);
}

TEST_CASE("every text in a chart is escaped", "[charts]") {
  Chart chart = trace({1.0});
  chart.title = "<script>x</script>";
  chart.labels[0] = "a&b";
  chart.series[0].name = "\"quoted\"";
  auto html = bar_chart(chart);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;") != std::string::npos);
  CHECK(html.find("a&amp;b") != std::string::npos);
  CHECK(html.find("&quot;quoted&quot;") != std::string::npos);
}

TEST_CASE("a missing value breaks the line and reads as a dash", "[charts]") {
  auto gap = std::numeric_limits<double>::quiet_NaN();
  auto html = line_chart(trace({1.0, 2.0, gap, 3.0, 4.0}));
  CHECK(count(html, "<polyline") == 2);
  CHECK(html.find("<td>—</td>") != std::string::npos);
}

TEST_CASE("a long trace is folded to its peaks", "[charts]") {
  std::vector<double> values(kMaxChartPoints * 10, 4.0);
  values[555] = 11.5;  // one warm reading among many
  auto html = line_chart(trace(values));
  CHECK(count(html, "<tr><th>") == kMaxChartPoints + 1);  // and the header row
  CHECK(html.find("<td>11.5 °C</td>") != std::string::npos);
}

TEST_CASE("a limit is drawn as a labelled dashed line", "[charts]") {
  Chart chart = trace({2.0, 3.0});
  chart.limit = 8.0;
  chart.limit_label = "上限 8 °C";
  auto html = line_chart(chart);
  CHECK(html.find("stroke-dasharray") != std::string::npos);
  CHECK(html.find("上限 8 °C") != std::string::npos);
}

TEST_CASE("bars start from zero, one per value and series", "[charts]") {
  Chart chart{.title = "每日销售",
              .labels = {"12-01", "12-02", "12-03"},
              .value_text = [](double v) { return std::to_string(static_cast<int>(v)); }};
  chart.series.push_back({.name = "销售", .values = {100, 250, 50}});
  chart.series.push_back({.name = "退款", .values = {0, 10, 0}});
  auto html = bar_chart(chart);
  CHECK(count(html, "<rect") == 6);
  CHECK(html.find("class=\"chart-legend\"") != std::string::npos);
  CHECK(html.find(">0</text>") != std::string::npos);  // the axis starts at zero
}

TEST_CASE("a chart with nothing to draw still renders its frame", "[charts]") {
  Chart chart{.title = "空", .value_text = celsius};
  chart.series.push_back({.name = "温度", .values = {}});
  auto html = line_chart(chart);
  CHECK(html.find("</svg>") != std::string::npos);
  CHECK(count(html, "<polyline") == 0);
}
