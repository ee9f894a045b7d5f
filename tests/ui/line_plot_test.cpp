// Curve decimation and axis ranges of the Training panel's plots.
#include "ui/line_plot.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

namespace drmm::ui {
namespace {

PlotSeries ramp(size_t n) {
  PlotSeries s{"ramp", 0, {}, {}};
  for (size_t i = 0; i < n; ++i) {
    s.x.push_back(double(i));
    s.y.push_back(double(i % 10));
  }
  return s;
}

TEST(LinePlot, ShortSeriesAreNotDecimated) {
  const PlotSeries s = ramp(30);
  EXPECT_EQ(decimate(s, 100).x.size(), 30u);
}

TEST(LinePlot, DecimationBoundsPointsAndKeepsSpikesAndEnds) {
  PlotSeries s = ramp(100000);
  s.y[54321] = 1000.0;  // one spike in a long run
  const PlotSeries d = decimate(s, 200);
  EXPECT_LE(d.x.size(), 3u * 200 + 1);
  EXPECT_EQ(*std::max_element(d.y.begin(), d.y.end()), 1000.0);
  EXPECT_EQ(d.x.front(), 0.0);
  EXPECT_EQ(d.x.back(), 99999.0);
  EXPECT_TRUE(std::is_sorted(d.x.begin(), d.x.end()));
}

TEST(LinePlot, SymlogIsMonotonicKeepsTheSignAndInverts) {
  double last = -1e9;
  for (double y : {-1e4, -2.0, -1e-3, -1e-5, 0.0, 1e-5, 1e-3, 0.5, 2.0, 1e4}) {
    const double a = symlog(y);
    EXPECT_GT(a, last) << y;
    EXPECT_EQ(a < 0, y < 0) << y;
    EXPECT_NEAR(symlog_inverse(a), y, 1e-12 * (1 + std::abs(y))) << y;
    last = a;
  }
  EXPECT_DOUBLE_EQ(symlog(10 * kSymlogLinear), 2.0);  // one unit per decade
  EXPECT_DOUBLE_EQ(symlog(-100 * kSymlogLinear), -3.0);
}

TEST(LinePlot, SymlogRangeKeepsNegativeAndZeroValues) {
  const PlotSeries s{"loss", 0, {1, 2, 3, 4}, {-2.0, 0.0, 0.01, 100.0}};
  PlotOptions options;
  options.symlog_y = true;
  const PlotRange r = plot_range({&s, 1}, options);
  EXPECT_LT(r.y0, symlog(-2.0));  // the negative total L is on the axis
  EXPECT_GT(r.y0, symlog(-2.0) - 1.0);
  EXPECT_GT(r.y1, symlog(100.0));
  EXPECT_DOUBLE_EQ(r.x0, 1.0);
  EXPECT_DOUBLE_EQ(r.x1, 4.0);
}

TEST(LinePlot, FixedRangeAndEmptySeries) {
  PlotOptions options;
  options.fixed_y = true;
  options.y_min = 0;
  options.y_max = 1;
  const PlotRange fixed = plot_range({}, options);
  EXPECT_DOUBLE_EQ(fixed.y0, 0.0);
  EXPECT_DOUBLE_EQ(fixed.y1, 1.0);
  EXPECT_LT(fixed.x0, fixed.x1);  // never a zero-width axis
}

// A categorical axis (a network's levels): every name's tick inside, half a spacing from the edges.
TEST(LinePlot, NamedLevelsSpanHalfASpacingBeyondTheFirstAndTheLast) {
  PlotOptions options;
  options.x_names = {"pixels", "conv1", "pool1"};
  const PlotSeries s{"class", 0, {0, 1, 2}, {0.5, 0.9, 1.0}};
  const PlotRange r = plot_range({&s, 1}, options);
  EXPECT_DOUBLE_EQ(r.x0, -0.5);
  EXPECT_DOUBLE_EQ(r.x1, 2.5);
}

}  // namespace
}  // namespace drmm::ui
