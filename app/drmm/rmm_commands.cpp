// `drmm rmm train`: the shallow Rendering Mixture Model trained by hard EM (DESIGN.md §3.3;
// paper 001 §2.6.1, eq. 16–17): templates per class (or cluster) × nuisance, the likelihood per
// iteration, train and test accuracy.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>

#include "app/drmm/commands.h"
#include "core/data/dataset.h"
#include "core/rmm/rmm_export.h"
#include "core/rmm/shallow_rmm.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/png_io.h"

namespace drmm::cli {
namespace {

struct RmmCliOptions {
  std::string data = "fashion-mnist";
  std::string mode = "supervised";
  rmm::TrainOptions train;
  size_t train_limit = 0, test_limit = 0;  // 0: every image
  std::string out;
};

constexpr int kPictureScale = 4;
constexpr int kPairsPerRow = 3;

Dataset load_limited(const std::string& spec, Split split, size_t limit) {
  Dataset data = load_dataset(spec, split);
  if (limit > 0 && limit < data.size()) {
    data.labels.resize(limit);
    data.pixels.resize(limit * data.image_size());
    if (!data.nuisance_names.empty()) data.nuisances.resize(limit * data.nuisance_names.size());
  }
  return data;
}

void run_train(RmmCliOptions& o) {
  o.train.mode = rmm::parse_mode(o.mode);
  const Dataset train = load_limited(o.data, Split::Train, o.train_limit);
  std::optional<Dataset> test;
  if (has_split(o.data, Split::Test)) test = load_limited(o.data, Split::Test, o.test_limit);
  std::cout << "data:      " << train.name << ", " << train.size() << " training images of " << train.channels << "x"
            << train.height << "x" << train.width << ", " << (test ? std::to_string(test->size()) : "no")
            << " test images\n";
  std::filesystem::create_directories(o.out);
  const size_t nuisances = rmm::make_nuisances(o.train.max_shift, o.train.rotations).size();
  std::cout << "model:     " << rmm::mode_name(o.train.mode) << ", "
            << (o.train.mode == rmm::Mode::Supervised ? train.num_classes() : (o.train.clusters > 0 ? o.train.clusters : train.num_classes()))
            << " templates x " << nuisances << " nuisances\n";
  std::cout << std::fixed;
  const rmm::Trained result = rmm::train_shallow_rmm(train, test ? &*test : nullptr, o.train, [](const rmm::Trained& state) {
    const rmm::Iteration& r = state.history.back();
    std::cout << "iteration " << std::setw(3) << r.iteration << "  log-likelihood " << std::setprecision(4)
              << r.log_likelihood << "  changed " << std::setw(6) << r.changed << "  train " << r.train_accuracy;
    if (!std::isnan(r.test_accuracy)) std::cout << "  test " << r.test_accuracy;
    std::cout << "  " << std::setprecision(1) << r.seconds << " s\n";
  });
  const rmm::Iteration& last = result.history.back();
  write_file_atomically(o.out + "/likelihood.csv", rmm::history_csv(result.history));
  write_png(o.out + "/templates.png", rmm::templates_picture(result.model, kPictureScale));
  write_png(o.out + "/assignments.png", rmm::assignments_picture(result.model, test ? *test : train, result.samples,
                                                                 kPictureScale, kPairsPerRow));
  std::cout << std::setprecision(4) << "train accuracy: " << last.train_accuracy << "\n";
  if (!std::isnan(last.test_accuracy)) std::cout << "test accuracy:  " << last.test_accuracy << "\n";
  std::cout << std::setprecision(1) << "time:      " << last.seconds << " s for " << last.iteration << " iterations\n"
            << "wrote:     " << o.out << "/likelihood.csv, templates.png, assignments.png\n";
}

}  // namespace

void register_rmm_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "rmm", "The shallow Rendering Mixture Model trained by hard EM: an image is a template of its class rendered\n"
             "under a nuisance (a shift, optionally a rotation) plus noise.");
  group->require_subcommand(1);
  auto o = std::make_shared<RmmCliOptions>();
  CLI::App* train = group->add_subcommand(
      "train",
      "Hard EM (paper 001 eq. 16-17). E-step: each image's (c, g) = argmax <mu_cg|I> - |mu_cg|^2/2 + log pi_cg;\n"
      "M-step: each template the least-squares fit of its images moved back by their nuisance, pi_cg their\n"
      "frequencies. Writes DIR/likelihood.csv (per iteration: mean complete-data log-likelihood per image,\n"
      "assignments changed, train and test accuracy, seconds), DIR/templates.png (every template mu_c) and\n"
      "DIR/assignments.png (test images, each beside the template mu_cg it was assigned to).");
  train->footer(
      "Examples:\n"
      "  drmm rmm train --data synthetic --shift 3 --iterations 10 --out runs/rmm\n"
      "  drmm rmm train --data fashion-mnist --mode unsupervised --clusters 30 --shift 2 --out runs/rmm-k30");
  train->add_option("--data", o->data, "Dataset: fashion-mnist, synthetic, synthetic-rgb, or a path")->capture_default_str();
  train->add_option("--mode", o->mode,
                    "supervised (each training image's class is known; E-step over g) or unsupervised (K clusters, "
                    "each named by the majority class of its training images)")
      ->capture_default_str()
      ->check(CLI::IsMember({"supervised", "unsupervised"}));
  train->add_option("--clusters", o->train.clusters, "Unsupervised: K clusters (0: the number of classes)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  train->add_option("--shift", o->train.max_shift, "Nuisance shifts: every integer (dx, dy) within +-S pixels")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  train->add_option("--rotations", o->train.rotations,
                    "Also rotate by these angles in degrees, comma separated (e.g. -15,15); 0 is always included")
      ->delimiter(',');
  train->add_option("--iterations", o->train.iterations, "EM iterations")->capture_default_str()->check(CLI::Range(1, 100000));
  train->add_option("--train-limit", o->train_limit, "Use only the first N training images (0: all)")->capture_default_str();
  train->add_option("--test-limit", o->test_limit, "Use only the first N test images (0: all)")->capture_default_str();
  train->add_option("--seed", o->train.seed, "Seed of the unsupervised k-means++ initialisation")->capture_default_str();
  train->add_option("--threads", o->train.threads, "Threads (0: all cores)")->capture_default_str();
  train->add_option("--out", o->out, "Folder to write likelihood.csv, templates.png and assignments.png into")->required();
  train->callback([o] { run_train(*o); });
}

}  // namespace drmm::cli
