// The GUI test (DESIGN.md §5): the real drmm-studio under Xvfb, driven by its own hooks —
// train a few steps with every panel open, save the whole window, exit — then the picture is
// checked for the panels' content: each panel present and not blank, and the regions that show
// curves, reconstructions, filters and dataset images non-uniform. The picture stays in
// <build>/test-output/ for a person to look at.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

struct RegionStats {
  double mean = 0, stddev = 0;
  size_t distinct_colors = 0;
  double dominant_fraction = 0;  // share of the most frequent color
};

RegionStats region_stats(const QImage& image, QRect rect) {
  rect = rect.intersected(image.rect());
  RegionStats s;
  if (rect.isEmpty()) return s;
  std::map<QRgb, size_t> counts;
  double sum = 0, sum2 = 0;
  const size_t n = size_t(rect.width()) * size_t(rect.height());
  for (int y = rect.top(); y <= rect.bottom(); ++y)
    for (int x = rect.left(); x <= rect.right(); ++x) {
      const QRgb c = image.pixel(x, y);
      ++counts[c];
      const double luma = 0.299 * qRed(c) + 0.587 * qGreen(c) + 0.114 * qBlue(c);
      sum += luma;
      sum2 += luma * luma;
    }
  s.mean = sum / double(n);
  s.stddev = std::sqrt(std::max(0.0, sum2 / double(n) - s.mean * s.mean));
  s.distinct_colors = counts.size();
  size_t most = 0;
  for (const auto& [color, count] : counts) most = std::max(most, count);
  s.dominant_fraction = double(most) / double(n);
  return s;
}

QRect rect_of(const QJsonValue& value) {
  const QJsonArray a = value.toArray();
  return a.size() == 4 ? QRect(a[0].toInt(), a[1].toInt(), a[2].toInt(), a[3].toInt()) : QRect();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(StudioGui, ScreenshotAfterTrainingShowsEveryPanel) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  const fs::path output = fs::path(DRMM_BIN_DIR).parent_path() / "test-output";
  fs::create_directories(output);
  const fs::path shot = output / "studio_screenshot.png";
  const fs::path regions_path = output / "studio_screenshot.regions.json";
  const fs::path log = output / "studio_screenshot.log";
  fs::remove(shot);
  fs::remove(regions_path);
  // A private settings folder: the test neither reads nor disturbs a person's saved layout.
  const std::string command = "XDG_CONFIG_HOME='" + (output / "config").string() + "' xvfb-run -a -s '-screen 0 1400x900x24' '" +
                              std::string(DRMM_BIN_DIR) + "/drmm-studio' --screenshot '" + shot.string() +
                              "' --after-steps 20 --frame-stats > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  const std::string log_text = read_text(log);
  ASSERT_EQ(status, 0) << command << "\n" << log_text;
  EXPECT_NE(log_text.find("frame-stats: frame work"), std::string::npos) << log_text;
  std::printf("%s", log_text.c_str());

  QImage image;
  ASSERT_TRUE(image.load(QString::fromStdString(shot.string()))) << "no screenshot at " << shot;
  image = image.convertToFormat(QImage::Format_RGB32);
  EXPECT_GE(image.width(), 1000);
  EXPECT_GE(image.height(), 700);
  const RegionStats whole = region_stats(image, image.rect());
  EXPECT_GT(whole.stddev, 20.0) << "the window looks blank";

  QFile file(QString::fromStdString(regions_path.string()));
  ASSERT_TRUE(file.open(QIODevice::ReadOnly)) << regions_path;
  const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
  EXPECT_GE(root["step"].toInteger(), 20);

  const std::set<std::string> expected_panels{"training", "reconstructions", "filters", "dataset_browser",
                                              "decision_tree", "rendering_paths", "samples", "activity_max", "shallow_rmm",
                                              "nuisance_probe", "comparison"};
  // The analyses of the live model are tabs behind the reconstructions (tests/ui/analysis_panels_test.cpp
  // checks their content); every other panel is on screen in the default layout.
  const std::set<std::string> tabbed_panels{"rendering_paths", "samples", "activity_max", "shallow_rmm", "nuisance_probe",
                                            "comparison"};
  // The regions where each panel draws its content; each must show real variation, not a flat fill.
  const std::map<std::string, size_t> expected_regions{{"training.losses", 8},
                                                        {"training.accuracy", 4},
                                                        {"reconstructions.strip", 64},
                                                        {"filters.grid", 16},
                                                        {"filters.renderings", 16},
                                                        {"dataset_browser.grid", 64},
                                                        {"decision_tree.tree", 16},
                                                        {"decision_tree.vote", 8}};
  std::set<std::string> seen_panels, seen_regions;
  for (const QJsonValue& value : root["panels"].toArray()) {
    const QJsonObject panel = value.toObject();
    const std::string name = panel["name"].toString().toStdString();
    seen_panels.insert(name);
    if (tabbed_panels.count(name)) {
      EXPECT_FALSE(panel["visible"].toBool()) << name << " covers the reconstructions";
      continue;
    }
    EXPECT_TRUE(panel["visible"].toBool()) << name;
    const QRect rect = rect_of(panel["rect"]);
    EXPECT_TRUE(image.rect().contains(rect)) << name;
    EXPECT_GT(rect.width() * rect.height(), 150 * 100) << name;
    const RegionStats stats = region_stats(image, rect);
    EXPECT_GT(stats.stddev, 10.0) << name << " looks blank";
    EXPECT_LT(stats.dominant_fraction, 0.97) << name << " is almost one color";
    const QJsonObject regions = panel["regions"].toObject();
    for (auto it = regions.begin(); it != regions.end(); ++it) {
      const std::string region = it.key().toStdString();
      const auto expected = expected_regions.find(region);
      if (expected == expected_regions.end()) continue;
      seen_regions.insert(region);
      const QRect r = rect_of(it.value());
      EXPECT_TRUE(rect.contains(r)) << region << " lies outside its panel";
      EXPECT_GT(r.width() * r.height(), 40 * 40) << region << " is too small";
      const RegionStats s = region_stats(image, r);
      EXPECT_GT(s.stddev, 5.0) << region << " is uniform";
      EXPECT_GE(s.distinct_colors, expected->second) << region << " has too few colors";
      EXPECT_LT(s.dominant_fraction, 0.98) << region << " is almost one color";
    }
  }
  EXPECT_EQ(seen_panels, expected_panels);
  for (const auto& [region, colors] : expected_regions) EXPECT_TRUE(seen_regions.count(region)) << region << " not drawn";
}

// `--open model.onnx --screenshot`: the picture shows the imported network, trained from the
// import, not the preset's run that was on screen while the import measured π.
TEST(StudioGui, AScreenshotOfAnOnnxImportShowsTheImportedNetwork) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  const fs::path output = fs::path(DRMM_BIN_DIR).parent_path() / "test-output" / "onnx_screenshot";
  fs::remove_all(output);
  fs::create_directories(output);
  const fs::path shot = output / "shot.png", log = output / "shot.log";
  const std::string command = "XDG_CONFIG_HOME='" + (output / "config").string() + "' XDG_DATA_HOME='" +
                              (output / "data").string() + "' xvfb-run -a -s '-screen 0 1400x900x24' '" +
                              std::string(DRMM_BIN_DIR) + "/drmm-studio' --dataset synthetic --open '" +
                              std::string(DRMM_SOURCE_DIR) + "/tests/onnx/models/view_flatten.onnx' --screenshot '" +
                              shot.string() + "' --after-steps 2 > '" + log.string() + "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << read_text(log);
  QFile file(QString::fromStdString((output / "shot.regions.json").string()));
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
  const QJsonArray levels = root["levels"].toArray();
  ASSERT_FALSE(levels.isEmpty());
  // view_flatten.onnx: a 4-filter 3×3 conv with bias (the tiny preset's conv1 has 32 filters).
  EXPECT_EQ(levels.first().toString().toStdString().rfind("conv1 4×3×3", 0), 0u) << levels.first().toString().toStdString();
  EXPECT_EQ(root["step"].toInteger(), 2);
}

}  // namespace
