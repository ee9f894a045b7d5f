// Writes a seed corpus for every fuzz target: valid files of each format, made by the programs'
// own writers (and the test suites' file builders), so that fuzzing starts from inputs that pass
// every check and mutates them into the malformed ones.
//   fuzz_seeds OUT   → OUT/<target>/seed-*
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/backend/cpu/cpu_backend.h"
#include "core/io/onnx_export.h"
#include "core/model/drmm_model.h"
#include "core/train/checkpoint.h"
#include "core/train/config_json.h"
#include "core/train/model_state.h"
#include "core/tree/forest.h"
#include "core/tree/forest_io.h"
#include "core/util/png_io.h"
#include "tests/core/dataset_test_files.h"
#include "tests/core/tree_test_data.h"

namespace fs = std::filesystem;
using namespace drmm;

namespace {

void put(const fs::path& folder, const std::string& name, const test::Bytes& bytes) {
  fs::create_directories(folder);
  test::write_file(folder / name, bytes);
}

test::Bytes gzip_of(const test::Bytes& bytes, const fs::path& scratch) {
  test::write_gzip(scratch / "gz", bytes);
  return test::read_file(scratch / "gz");
}

// fuzz_idx splits its input at byte 0's share of the rest: images first, then labels.
test::Bytes idx_pair(const test::Bytes& images, const test::Bytes& labels) {
  const size_t rest = images.size() + labels.size();
  test::Bytes out{uint8_t((images.size() * 255 + rest - 1) / rest)};
  out.insert(out.end(), images.begin(), images.end());
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void write_checkpoint_seed(const fs::path& folder, const std::string& preset) {
  CpuBackend backend(1);
  DrmmModel model(load_model_spec(preset), backend, 1);
  CheckpointContents contents;
  contents.meta = {{"model", model.spec().to_json()}, {"step", 0}};
  store_model_state(model, contents);
  fs::create_directories(folder);
  write_checkpoint(folder / ("seed-" + preset), contents);
}

// An exported preset: every op the exporter writes, which are ops the importer reads.
void write_onnx_seed(const fs::path& folder, const std::string& preset) {
  CpuBackend backend(1);
  DrmmModel model(load_model_spec(preset), backend, 1);
  fs::create_directories(folder);
  export_onnx(model, folder / ("seed-" + preset + ".onnx"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds OUT\n";
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out);
  const fs::path scratch = out / ".scratch";
  fs::create_directories(scratch);

  const test::Bytes images = test::idx_images(3, 4, 5), labels = test::idx_labels({0, 1, 2});
  put(out / "fuzz_idx", "seed-raw", idx_pair(images, labels));
  put(out / "fuzz_idx", "seed-gzip", idx_pair(gzip_of(images, scratch), gzip_of(labels, scratch)));

  put(out / "fuzz_cifar", "seed", test::cifar_records({0, 3, 9}));

  for (int channels : {1, 3, 4}) {
    Image8 image{5, 4, channels, std::vector<uint8_t>(size_t(5 * 4 * channels), 100)};
    write_png(scratch / "p.png", image);
    put(out / "fuzz_png", "seed-" + std::to_string(channels), test::read_file(scratch / "p.png"));
  }

  write_checkpoint_seed(out / "fuzz_checkpoint", "tiny");
  write_onnx_seed(out / "fuzz_onnx", "tiny");

  const tree::testing::Samples samples = tree::testing::evolutionary_samples(60, 2, 0.02f, 3);
  tree::ForestOptions options;
  options.trees = 2;
  options.threads = 1;
  const tree::Forest forest = tree::train_forest(samples.features(), samples.labels, samples.class_names, options);
  fs::create_directories(out / "fuzz_forest");
  tree::save_forest(forest, out / "fuzz_forest" / "seed");

  for (const std::string& name : preset_names())
    put(out / "fuzz_preset", "seed-" + name, test::read_file(presets_dir() + "/" + name + ".json"));

  const std::string settings = config_to_json(TrainConfig{}).dump();
  put(out / "fuzz_settings", "seed", test::Bytes(settings.begin(), settings.end()));

  fs::remove_all(scratch);
  std::cout << "seed corpora written to " << out.string() << "\n";
  return 0;
}
