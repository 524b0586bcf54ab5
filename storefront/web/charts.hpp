// Charts drawn on the server as inline SVG: the centre's daily sales, an excursion's
// temperature trace, the office's statistics. No chart library and no script: the page
// carries the drawing, sized by its viewBox so it reads on a 360 px phone, and the same
// numbers in a table that screen readers read (the drawing itself is one labelled image).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cunhuo::storefront::web {

inline constexpr std::size_t kMaxChartSeries = 4;
// More labels than this are folded into buckets, each showing its largest value: a trace's
// peak is what a reader looks for, and the table stays a readable length.
inline constexpr std::size_t kMaxChartPoints = 96;

struct ChartSeries {
  std::string name;
  std::vector<double> values;  // one per label; NaN where there is no value (a gap)
};

struct Chart {
  std::string title;                              // the caption, and the drawing's accessible name
  std::vector<std::string> labels;                // along the x axis: days, months or times
  std::vector<ChartSeries> series;                // at most kMaxChartSeries
  std::function<std::string(double)> value_text;  // how a value reads: "12.50 元", "8.5 °C"
  std::optional<double> limit = {};  // a dashed horizontal line: a store's bound, a threshold
  std::string limit_label = {};
};

// `<figure class="chart">` with the caption, a legend when there are several series, the
// <svg> and a `<table class="sr-only">` of the numbers. Every text is HTML-escaped.
std::string line_chart(const Chart& chart);
// The same, with bars from zero (grouped side by side when there are several series).
std::string bar_chart(const Chart& chart);

}  // namespace cunhuo::storefront::web
