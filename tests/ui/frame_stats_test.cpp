// The --frame-stats figures.
#include "ui/frame_stats.h"

#include <gtest/gtest.h>

namespace drmm::ui {
namespace {

TEST(FrameStats, PercentilesOfKnownSamples) {
  std::vector<double> samples;
  for (int i = 1; i <= 100; ++i) samples.push_back(double(i));
  const Percentiles p = percentiles(samples);
  EXPECT_EQ(p.count, 100u);
  EXPECT_DOUBLE_EQ(p.median_ms, 51.0);  // nearest rank on 0..99
  EXPECT_DOUBLE_EQ(p.p99_ms, 99.0);
  EXPECT_DOUBLE_EQ(p.max_ms, 100.0);
  EXPECT_EQ(percentiles({}).count, 0u);
}

TEST(FrameStats, RepaintWithoutChangesIsNotAFrame) {
  FrameStats stats;
  stats.set_animating(true);
  stats.frame_begin();
  stats.frame_end();
  EXPECT_EQ(stats.frame_work().count, 0u);
  stats.frame_begin();
  stats.paint_begin();
  stats.paint_end();
  stats.frame_presented();
  stats.frame_end();
  stats.frame_begin();
  stats.frame_presented();
  stats.frame_end();
  EXPECT_EQ(stats.frame_work().count, 2u);
  EXPECT_EQ(stats.panel_paint().count, 1u);
  EXPECT_EQ(stats.presented_interval().count, 1u);
  EXPECT_NE(stats.report().find("frame work"), std::string::npos);
}

TEST(FrameStats, IntervalsOnlyWhileAnimating) {
  FrameStats stats;
  for (bool animating : {false, false, true, true}) {
    stats.set_animating(animating);
    stats.frame_begin();
    stats.frame_presented();
    stats.frame_end();
  }
  EXPECT_EQ(stats.presented_interval().count, 1u);
}

}  // namespace
}  // namespace drmm::ui
