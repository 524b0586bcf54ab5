#include "storefront/web/charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/assert.hpp"
#include "core/text.hpp"

namespace cunhuo::storefront::web {
namespace {

// The drawing's own units; the <svg> scales to its box's width, keeping this shape.
constexpr double kWidth = 360;
constexpr double kHeight = 180;
constexpr double kLeft = 52;  // room for the value labels
constexpr double kRight = 8;
constexpr double kTop = 10;
constexpr double kBottom = 24;  // room for the x labels
constexpr int kYTicks = 4;
constexpr std::size_t kXLabels = 5;  // at most this many x labels are written
constexpr const char* kColours[kMaxChartSeries] = {"#1f6f43", "#c0392b", "#2c5f9e", "#b7791f"};

double nan() { return std::numeric_limits<double>::quiet_NaN(); }

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

// Folds `values` into `buckets` runs, each giving its largest value (NaN if it has none).
std::vector<double> fold(const std::vector<double>& values, std::size_t buckets) {
  std::vector<double> out(buckets, nan());
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto& slot = out[i * buckets / values.size()];
    if (!std::isnan(values[i]) && (std::isnan(slot) || values[i] > slot)) slot = values[i];
  }
  return out;
}

// The chart with at most kMaxChartPoints labels; a bucket is named by its first label.
Chart folded(const Chart& chart) {
  auto n = chart.labels.size();
  if (n <= kMaxChartPoints) return chart;
  Chart out = chart;
  out.labels.assign(kMaxChartPoints, {});
  for (std::size_t i = n; i-- > 0;) out.labels[i * kMaxChartPoints / n] = chart.labels[i];
  for (auto& s : out.series) s.values = fold(s.values, kMaxChartPoints);
  return out;
}

struct Scale {
  double low;
  double high;
  double y(double v) const { return kTop + (high - v) / (high - low) * (kHeight - kTop - kBottom); }
};

// A tick step of 1, 2 or 5 times a power of ten that covers `span` in about kYTicks steps.
double nice_step(double span) {
  double raw = span / kYTicks;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

Scale scale_of(const Chart& chart, bool from_zero) {
  double low = from_zero ? 0 : std::numeric_limits<double>::infinity();
  double high = from_zero ? 0 : -std::numeric_limits<double>::infinity();
  auto take = [&](double v) {
    if (std::isnan(v)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  };
  for (const auto& s : chart.series)
    for (double v : s.values) take(v);
  if (chart.limit) take(*chart.limit);
  if (!std::isfinite(low)) low = high = 0;  // nothing to draw
  if (high - low < 1e-9) high = low + 1;
  double step = nice_step(high - low);
  return {.low = std::floor(low / step) * step, .high = std::ceil(high / step) * step};
}

double x_of(std::size_t i, std::size_t n) {
  double plot = kWidth - kLeft - kRight;
  return kLeft + (n <= 1 ? plot / 2 : plot * static_cast<double>(i) / (n - 1));
}

void axes(std::string& out, const Chart& chart, const Scale& s) {
  double step = nice_step(s.high - s.low);
  for (double v = s.low; v <= s.high + step / 2; v += step) {
    auto y = num(s.y(v));
    out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) + "\" y1=\"" + y +
           "\" y2=\"" + y + "\" stroke=\"#ddd\"/>";
    out += "<text x=\"" + num(kLeft - 4) + "\" y=\"" + y + "\" dy=\"4\" text-anchor=\"end\">" +
           html_escape(chart.value_text(v)) + "</text>";
  }
}

void x_labels(std::string& out, const std::vector<std::string>& labels,
              const std::function<double(std::size_t)>& x) {
  auto n = labels.size();
  std::size_t every = std::max<std::size_t>(1, (n + kXLabels - 1) / kXLabels);
  for (std::size_t i = 0; i < n; i += every) {
    const char* anchor = i == 0 ? "start" : "middle";
    out += "<text x=\"" + num(x(i)) + "\" y=\"" + num(kHeight - 6) + "\" text-anchor=\"" + anchor +
           "\">" + html_escape(labels[i]) + "</text>";
  }
}

void limit_line(std::string& out, const Chart& chart, const Scale& s) {
  if (!chart.limit) return;
  auto y = num(s.y(*chart.limit));
  out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) + "\" y1=\"" + y +
         "\" y2=\"" + y + "\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>";
  out += "<text x=\"" + num(kWidth - kRight) + "\" y=\"" + y +
         "\" dy=\"-3\" text-anchor=\"end\" fill=\"#c0392b\">" + html_escape(chart.limit_label) +
         "</text>";
}

// One polyline per unbroken run of values; a single point is drawn as a dot.
void line_series(std::string& out, const ChartSeries& series, const char* colour, const Scale& s,
                 std::size_t n) {
  std::vector<std::string> run;
  auto flush = [&] {
    if (run.size() == 1) {
      auto comma = run[0].find(',');
      out += "<circle cx=\"" + run[0].substr(0, comma) + "\" cy=\"" + run[0].substr(comma + 1) +
             "\" r=\"2.5\" fill=\"" + colour + "\"/>";
    } else if (run.size() > 1) {
      out += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(colour) +
             "\" points=\"";
      for (const auto& p : run) out += p + ' ';
      out.back() = '"';
      out += "/>";
    }
    run.clear();
  };
  for (std::size_t i = 0; i < n; ++i) {
    double v = i < series.values.size() ? series.values[i] : nan();
    if (std::isnan(v)) {
      flush();
      continue;
    }
    run.push_back(num(x_of(i, n)) + ',' + num(s.y(v)));
  }
  flush();
}

void bar_series(std::string& out, const Chart& chart, const Scale& s) {
  auto n = chart.labels.size();
  auto k = chart.series.size();
  double slot = (kWidth - kLeft - kRight) / std::max<std::size_t>(n, 1);
  double bar = slot * 0.8 / std::max<std::size_t>(k, 1);
  for (std::size_t j = 0; j < k; ++j) {
    const auto& values = chart.series[j].values;
    for (std::size_t i = 0; i < n && i < values.size(); ++i) {
      if (std::isnan(values[i])) continue;
      double top = s.y(std::max(values[i], 0.0));
      double bottom = s.y(std::min(values[i], 0.0));
      out += "<rect x=\"" + num(kLeft + slot * i + slot * 0.1 + bar * j) + "\" y=\"" + num(top) +
             "\" width=\"" + num(bar) + "\" height=\"" + num(bottom - top) + "\" fill=\"" +
             kColours[j] + "\"/>";
    }
  }
}

void legend(std::string& out, const Chart& chart) {
  if (chart.series.size() < 2) return;
  out += "<p class=\"chart-legend\" aria-hidden=\"true\">";
  for (std::size_t j = 0; j < chart.series.size(); ++j)
    out += "<span><i style=\"background:" + std::string(kColours[j]) + "\"></i>" +
           html_escape(chart.series[j].name) + "</span>";
  out += "</p>";
}

void table(std::string& out, const Chart& chart) {
  out += "<table class=\"sr-only\"><caption>" + html_escape(chart.title) + "</caption><tr><th>";
  out += "</th>";
  for (const auto& s : chart.series) out += "<th>" + html_escape(s.name) + "</th>";
  out += "</tr>";
  for (std::size_t i = 0; i < chart.labels.size(); ++i) {
    out += "<tr><th>" + html_escape(chart.labels[i]) + "</th>";
    for (const auto& s : chart.series) {
      double v = i < s.values.size() ? s.values[i] : nan();
      out +=
          "<td>" + (std::isnan(v) ? std::string("—") : html_escape(chart.value_text(v))) + "</td>";
    }
    out += "</tr>";
  }
  out += "</table>";
}

std::string draw(const Chart& given, bool bars) {
  CUNHUO_ASSERT(given.series.size() <= kMaxChartSeries);
  CUNHUO_ASSERT(given.value_text != nullptr);
  Chart chart = folded(given);
  auto n = chart.labels.size();
  Scale s = scale_of(chart, bars);
  std::string out =
      "<figure class=\"chart\"><figcaption>" + html_escape(chart.title) + "</figcaption>";
  legend(out, chart);
  out += "<svg viewBox=\"0 0 " + num(kWidth) + ' ' + num(kHeight) +
         "\" role=\"img\" aria-label=\"" + html_escape(chart.title) +
         "\" font-size=\"10\" fill=\"#555\">";
  axes(out, chart, s);
  if (bars) {
    double slot = (kWidth - kLeft - kRight) / std::max<std::size_t>(n, 1);
    bar_series(out, chart, s);
    x_labels(out, chart.labels, [&](std::size_t i) { return kLeft + slot * (i + 0.5); });
  } else {
    for (std::size_t j = 0; j < chart.series.size(); ++j)
      line_series(out, chart.series[j], kColours[j], s, n);
    x_labels(out, chart.labels, [&](std::size_t i) { return x_of(i, n); });
  }
  limit_line(out, chart, s);
  out += "</svg>";
  table(out, chart);
  out += "</figure>";
  return out;
}

}  // namespace

std::string line_chart(const Chart& chart) { return draw(chart, false); }

std::string bar_chart(const Chart& chart) { return draw(chart, true); }

}  // namespace cunhuo::storefront::web
