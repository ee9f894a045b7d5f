// drmm compare: two or more runs on the same data, labeled split, seed and batch order, by
// default the DRMM (the preset's four losses) and the same architecture as a plain CNN (L_H
// only), trained one after the other so that each run's wall time is its own.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>

#include "app/drmm/commands.h"
#include "app/drmm/train_options.h"
#include "core/train/comparison.h"
#include "core/util/atomic_file.h"
#include "core/util/png_io.h"

namespace drmm::cli {
namespace {

struct Variant {
  std::string name;
  TrainConfig config;
};

struct CompareOptions {
  TrainConfig base;
  std::vector<std::string> variants;
  std::string out = "runs/compare";
  size_t images = 8;
  int scale = 2;
  bool quiet = false;
};

struct VariantResult {
  std::string name;
  FinishedRun run;
  uint64_t split = 0;
  std::vector<ImageF> renderings;
};

CLI::ValidationError bad_variant(const std::string& text, const std::string& problem) {
  return CLI::ValidationError("--variant", "'" + text + "': " + problem);
}

// "NAME=OPTIONS": the objective options of `drmm train` (α, KL sign, top-down class, optimiser,
// learning rates) applied to the shared setup.
Variant parse_variant(const std::string& text, const TrainConfig& base) {
  const size_t equals = text.find('=');
  if (equals == std::string::npos) throw bad_variant(text, "expected NAME=OPTIONS, e.g. 'AdamCNN=--alpha-rc 0 --optimizer adam'");
  Variant variant{text.substr(0, equals), base};
  if (!std::regex_match(variant.name, std::regex("[A-Za-z0-9_+-][A-Za-z0-9_.+-]*")))
    throw bad_variant(text, "the name (a folder under --out) must be letters, digits and _ . + - only");
  CLI::App parser{"options of one variant", "--variant"};
  ObjectiveOptions objective;
  add_objective_options(&parser, variant.config, objective);
  try {
    parser.parse(text.substr(equals + 1), false);
  } catch (const CLI::ParseError& e) {
    throw bad_variant(text, std::string(e.what()) +
                                " (a variant takes the objective options of drmm train: --alpha-h/-rc/-kl/-nn, --kl-sign, "
                                "--topdown, --optimizer, --lr, --lr-end, --momentum; the data, split, seed and batch "
                                "are shared and given to drmm compare itself)");
  }
  apply_objective(variant.config, objective);
  return variant;
}

std::vector<Variant> all_variants(const CompareOptions& o) {
  std::vector<Variant> variants{{"DRMM", o.base}, {"CNN", supervised_only(o.base)}};
  for (const std::string& text : o.variants) {
    Variant v = parse_variant(text, o.base);
    for (const Variant& other : variants)
      if (CLI::detail::to_lower(other.name) == CLI::detail::to_lower(v.name))
        throw bad_variant(text, "the name '" + v.name + "' is taken (DRMM and CNN always run)");
    variants.push_back(std::move(v));
  }
  return variants;
}

std::string csv_header(const std::vector<std::string>& level_names) {
  std::string header =
      "variant,alpha_h,alpha_rc,alpha_kl,alpha_nn,alpha_rpn,rendering_prior,max_min,epochs,steps,labeled,split_fingerprint,seed,wall_seconds,"
      "median_step_ms,test_accuracy,test_images,r_mean,r_median,relative_error,self_consistency";
  for (const std::string& name : level_names) header += ",r_" + name;
  return header + "\n";
}

std::string csv_row(const VariantResult& v) {
  const Trainer& t = *v.run.trainer;
  const TrainConfig& c = t.config();
  const RenderingQuality& q = v.run.rendering;
  const ModelSpec& spec = v.run.trainer->model().spec();
  std::ostringstream row;
  row << v.name << "," << c.alpha.h << "," << c.alpha.rc << "," << c.alpha.kl << "," << c.alpha.nn << "," << c.alpha.rpn
      << "," << int(spec.has_rendering_prior()) << "," << int(spec.max_min) << "," << c.epochs
      << "," << t.step_count() << "," << t.split().labeled.size() << "," << std::hex << v.split << std::dec << ","
      << c.seed << "," << std::fixed << std::setprecision(2) << v.run.wall_seconds << ","
      << v.run.median_step_seconds * 1000 << std::setprecision(4) << "," << v.run.test.accuracy << ","
      << v.run.test.count << "," << q.r_mean << "," << q.r_median << "," << q.relative_error << ","
      << q.self_consistency;
  for (double r : q.level_r) row << "," << r;
  return row.str() + "\n";
}

void print_table(const std::vector<VariantResult>& results) {
  std::cout << "\n" << std::left << std::setw(14) << "variant" << std::right << std::setw(8) << "steps" << std::setw(10)
            << "wall s" << std::setw(12) << "ms/step" << std::setw(10) << "test acc" << std::setw(10) << "r(I,Î)"
            << std::setw(10) << "self-con" << "\n";
  for (const VariantResult& v : results)
    std::cout << std::left << std::setw(14) << v.name << std::right << std::setw(8) << v.run.trainer->step_count()
              << std::fixed << std::setprecision(1) << std::setw(10) << v.run.wall_seconds << std::setw(12)
              << v.run.median_step_seconds * 1000 << std::setprecision(4) << std::setw(10) << v.run.test.accuracy
              << std::setw(10) << v.run.rendering.r_mean << std::setw(10) << v.run.rendering.self_consistency << "\n";
}

void run_compare(const CompareOptions& o) {
  const std::vector<Variant> variants = all_variants(o);  // every variant checked before any training
  std::filesystem::create_directories(o.out);
  std::vector<VariantResult> results;
  for (const Variant& variant : variants) {
    std::cerr << "== " << variant.name << "\n";
    RunFolderOptions folder;
    folder.out = o.out + "/" + variant.name;
    folder.quiet = o.quiet;
    VariantResult result{variant.name, train_in_folder(variant.config, folder), 0, {}};
    Trainer& trainer = *result.run.trainer;
    result.split = split_fingerprint(trainer.split());
    const Dataset& shown = trainer.test_data() ? *trainer.test_data() : trainer.train_data();
    result.renderings = render_from_prediction(trainer.model(), shown, o.images);
    results.push_back(std::move(result));
  }
  Trainer& first = *results.front().run.trainer;
  std::string csv = csv_header(first.model().spec().level_names());
  std::vector<ComparedRun> runs;
  for (const VariantResult& v : results) {
    csv += csv_row(v);
    runs.push_back({v.run.trainer->history(), v.renderings});
  }
  write_file_atomically(o.out + "/compare.csv", csv);
  const Dataset& shown = first.test_data() ? *first.test_data() : first.train_data();
  write_png(o.out + "/compare.png", comparison_picture(first_images(shown, o.images), runs, o.scale));
  print_table(results);
  std::cout << "wrote " << o.out << "/compare.csv, " << o.out << "/compare.png and one run folder per variant\n";
}

}  // namespace

void register_compare_command(CLI::App& app) {
  auto options = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Train the DRMM and the same architecture as a plain CNN (L_H only: α_RC = α_KL = α_NN = 0), and any "
      "--variant, one after the other on the same data, labeled split, seed and batch order; writes "
      "OUT/compare.csv (steps, wall time, test accuracy, rendering quality per variant), OUT/compare.png (the test "
      "accuracy curves over the steps, then the test images and each variant's rendering Î of them, one row per "
      "variant, in the curve's colour: blue DRMM, red CNN, then green, purple, orange) and OUT/<variant>/ "
      "(checkpoint.bin, metrics.csv)");
  options->base.test_every = 100;  // points of the accuracy curves
  add_setup_options(cmd, options->base);
  cmd->add_option("--variant", options->variants,
                  "A further run, NAME=\"OPTIONS\": the objective options of drmm train, e.g. "
                  "'NoKL=--alpha-kl 0' (repeatable)");
  cmd->add_option("--out", options->out, "Folder for compare.csv, compare.png and the variants' run folders")
      ->capture_default_str();
  cmd->add_option("--images", options->images, "Test images whose renderings compare.png shows")
      ->check(CLI::Range(size_t(1), size_t(64)))->capture_default_str();
  cmd->add_option("--scale", options->scale, "Upscaling of the images in compare.png")
      ->check(CLI::Range(1, 8))->capture_default_str();
  cmd->add_flag("--quiet", options->quiet, "No progress line");
  cmd->callback([options] { run_compare(*options); });
}

}  // namespace drmm::cli
