// `drmm data info|show|export`: look at a dataset before training on it, or hand it to another trainer.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "app/drmm/commands.h"
#include "core/data/dataset.h"
#include "core/data/preview.h"
#include "core/model/model_spec.h"
#include "core/train/checkpoint.h"
#include "core/util/png_io.h"

namespace drmm::cli {
namespace {

const char* const kDatasetHelp =
    "A dataset name (fashion-mnist, mnist, synthetic, synthetic-rgb) or a path: an IDX images\n"
    "file (.gz or raw; its labels file is found beside it), a folder of IDX files, a CIFAR-10\n"
    "batch file or folder, or a folder with one sub-folder of PNG images per class.";

struct DataOptions {
  std::string dataset;
  std::string split = "train";
  size_t index = 0;
  size_t count = 1;
  int scale = 8;
  std::string out;
};

Split split_named(const std::string& name) { return name == "test" ? Split::Test : Split::Train; }

void add_dataset_arguments(CLI::App& command, DataOptions& options) {
  command.add_option("dataset", options.dataset, kDatasetHelp)->required();
  command.add_option("--split", options.split, "Which split to read: train (default) or test")
      ->check(CLI::IsMember({"train", "test"}));
}

void print_classes(const Dataset& data, std::ostream& out) {
  const std::vector<size_t> counts = data.class_counts();
  size_t name_width = 0;
  for (const std::string& name : data.class_names) name_width = std::max(name_width, name.size());
  out << "classes:   " << data.num_classes() << "\n";
  for (int c = 0; c < data.num_classes(); ++c)
    out << "  " << std::setw(3) << c << "  " << std::left << std::setw(int(name_width)) << data.class_names[size_t(c)]
        << std::right << "  " << counts[size_t(c)] << "\n";
}

// Each nuisance with the range it takes in this split, so a person sees it really varies.
void print_nuisances(const Dataset& data, std::ostream& out) {
  if (data.nuisance_names.empty()) {
    out << "nuisances: none\n";
    return;
  }
  const size_t stride = data.nuisance_names.size();
  out << "nuisances: " << stride << " per image\n";
  for (size_t k = 0; k < stride; ++k) {
    float low = data.nuisances[k], high = data.nuisances[k];
    for (size_t i = 0; i < data.size(); ++i) {
      low = std::min(low, data.nuisances[i * stride + k]);
      high = std::max(high, data.nuisances[i * stride + k]);
    }
    out << "  " << std::left << std::setw(10) << data.nuisance_names[k] << std::right << std::fixed
        << std::setprecision(3) << low << " .. " << high << "\n";
  }
}

// Which presets can train on these images (each preset's stack fitted to their shape and classes).
void print_preset_fits(const Dataset& data, std::ostream& out) {
  out << "presets:\n";
  for (const PresetFit& fit : preset_fits(data.channels, data.height, data.width, data.num_classes()))
    out << "  " << std::left << std::setw(10) << fit.preset << std::right << "  "
        << (fit.problem.empty() ? "fits" : "does not fit: " + fit.problem) << "\n";
}

void run_info(const DataOptions& options) {
  const Dataset data = load_dataset(options.dataset, split_named(options.split));
  std::cout << "name:      " << data.name << "\n"
            << "format:    " << data.format << "\n"
            << "split:     " << options.split << "\n"
            << "images:    " << data.size() << "\n"
            << "shape:     " << data.channels << "x" << data.height << "x" << data.width
            << " (channels x height x width)\n";
  print_classes(data, std::cout);
  print_nuisances(data, std::cout);
  print_preset_fits(data, std::cout);
}

void run_show(const DataOptions& options) {
  const Dataset data = load_dataset(options.dataset, split_named(options.split));
  const Image8 picture = render_preview(data, {.first = options.index, .count = options.count, .scale = options.scale});
  write_png(options.out, picture);
  std::cout << "wrote " << options.out << " (" << picture.width << "x" << picture.height << "): "
            << (options.count == 1 ? "image " : "images ") << options.index;
  if (options.count > 1) std::cout << ".." << options.index + options.count - 1;
  std::cout << " of " << data.name << " (" << options.split << "), classes:";
  for (size_t i = options.index; i < options.index + options.count; ++i)
    std::cout << " " << data.class_names[size_t(data.labels[i])];
  std::cout << "\n";
}

// The dataset as the engine reads it, in the checkpoint container (checkpoint.h): tensors
// "images" (N×C×H×W, the engine's pixel values) and "labels" (N×1×1×1, class indices), and in
// the header its name, format, split, class names and L_RC's unit E (mean_pixel_energy). The
// scale-out trainer (core/scaleout) reads it, so both train on the same numbers from one reader.
void run_export(const DataOptions& options) {
  const Dataset data = load_dataset(options.dataset, split_named(options.split));
  const int n = int(data.size());
  CheckpointContents contents;
  contents.meta = {{"dataset",
                    {{"name", data.name},
                     {"source", options.dataset},
                     {"format", data.format},
                     {"split", options.split},
                     {"class_names", data.class_names},
                     {"mean_pixel_energy", data.mean_pixel_energy()}}}};
  contents.arrays.push_back(NamedArray{"images", Shape{n, data.channels, data.height, data.width}, data.pixels});
  contents.arrays.push_back(NamedArray{"labels", Shape{n, 1, 1, 1}, std::vector<float>(data.labels.begin(), data.labels.end())});
  write_checkpoint(options.out, contents);
  std::cout << "wrote " << options.out << ": " << n << " images " << data.channels << "x" << data.height << "x"
            << data.width << ", " << data.num_classes() << " classes of " << data.name << " (" << options.split << ")\n";
}

}  // namespace

void register_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Inspect datasets: counts, classes, shapes, and pictures of images.");
  data->require_subcommand(1);
  data->footer(
      "Examples:\n"
      "  drmm data info fashion-mnist\n"
      "  drmm data info synthetic --split test\n"
      "  drmm data show fashion-mnist --index 0 --count 16 --out first16.png\n"
      "  drmm data export fashion-mnist --split test --out test.data");
  auto options = std::make_shared<DataOptions>();

  CLI::App* info = data->add_subcommand(
      "info", "Print a dataset's name, format, image count, shape (CxHxW), classes with their counts, and its\n"
              "known nuisance variables (synthetic data) with their ranges.");
  add_dataset_arguments(*info, *options);
  info->callback([options] { run_info(*options); });

  CLI::App* show = data->add_subcommand(
      "show", "Write images of a dataset to a PNG, upscaled without smoothing so every pixel is visible;\n"
              "with --count, a near-square grid of consecutive images separated by thin gray lines.");
  add_dataset_arguments(*show, *options);
  show->add_option("--index", options->index, "Index of the (first) image to show, from 0 (default 0)");
  show->add_option("--count", options->count, "How many consecutive images to show in a grid (default 1)")
      ->check(CLI::Range(1, 1024));
  show->add_option("--scale", options->scale, "Upscaling factor: each pixel becomes SxS (default 8)")
      ->check(CLI::Range(1, 64));
  show->add_option("--out", options->out, "The PNG file to write")->required();
  show->callback([options] { run_show(*options); });

  CLI::App* export_command = data->add_subcommand(
      "export", "Write a split's images and labels, as the engine reads them, to one file (the checkpoint\n"
                "container: a JSON header with the class names and the data's energy E, then float32 tensors\n"
                "'images' N×C×H×W and 'labels' N×1×1×1) for the scale-out trainer or another tool.");
  add_dataset_arguments(*export_command, *options);
  export_command->add_option("--out", options->out, "The file to write (atomically)")->required();
  export_command->callback([options] { run_export(*options); });
}

}  // namespace drmm::cli
