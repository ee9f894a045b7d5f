// What the panels export: metrics CSV text and PNG files (read back with the core's reader).
#include "ui/export_files.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/util/error.h"
#include "core/util/png_io.h"

namespace drmm::ui {
namespace {

TEST(ExportFiles, MetricsCsvHasHeaderAndEmptyUnmeasuredCells) {
  MetricsRow a;
  a.step = 10;
  a.loss_total = 1.5;
  a.test_accuracy = -1;
  MetricsRow b = a;
  b.step = 20;
  b.test_accuracy = 0.75;
  b.rendering.count = 300;
  b.rendering.r_mean = 0.5;
  b.rendering.r_median = -0.25;  // r may be negative; the row is measured all the same
  b.rendering.relative_error = 0.125;
  b.rendering.self_consistency = 1;
  b.rendering.level_r = {0.9, 0.8};
  const std::string csv = metrics_csv({a, b}, {"conv1", "pool1"});
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "step,epoch,loss_total,loss_h,loss_rc,loss_kl,loss_nn,train_accuracy,test_accuracy,images_per_second,"
            "learning_rate,r_mean,r_median,relative_error,self_consistency,r_conv1,r_pool1");
  EXPECT_NE(csv.find("\n10,0,1.5,0,0,0,0,0,,0,0,,,,,,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n20,0,1.5,0,0,0,0,0,0.75,0,0,0.5,-0.25,0.125,1,0.9,0.8\n"), std::string::npos) << csv;
}

TEST(ExportFiles, PngRoundTripAndNoPartFileLeft) {
  const std::filesystem::path folder = std::filesystem::temp_directory_path() / "drmm_ui_export_test";
  std::filesystem::create_directories(folder);
  const std::string path = (folder / "panel.png").string();
  RgbaImage image{2, 1, {255, 0, 0, 255, 0, 0, 255, 255}};
  export_png(path, image);
  const Image8 back = read_png(path);
  EXPECT_EQ(back.width, 2);
  EXPECT_EQ(back.height, 1);
  ASSERT_EQ(back.channels, 4);
  EXPECT_EQ(back.pixels[0], 255);
  EXPECT_EQ(back.pixels[6], 255);
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  std::filesystem::remove_all(folder);
}

TEST(ExportFiles, EmptyPictureIsAClearError) {
  EXPECT_THROW(export_png("/tmp/never-written.png", RgbaImage{}), FileError);
}

TEST(ExportFiles, UnwritableFolderNamesTheFile) {
  try {
    export_metrics_csv("/nonexistent-folder/metrics.csv", {}, {});
    FAIL() << "expected a FileError";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-folder/metrics.csv"), std::string::npos);
  }
}

}  // namespace
}  // namespace drmm::ui
