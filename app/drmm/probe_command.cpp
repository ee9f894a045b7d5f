// drmm probe: how linearly each level of trained models encodes the synthetic set's known
// nuisances and the class (core/analysis/model_probe.h).
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "app/drmm/commands.h"
#include "app/drmm/model_loading.h"
#include "core/analysis/model_probe.h"
#include "core/analysis/nuisance_probe_plot.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

struct ProbeCliOptions {
  std::vector<std::string> checkpoints, labels;
  std::string data = "synthetic", out, backend = "cpu";
  size_t images = 3000;
  int threads = 2;
  analysis::ProbeOptions probe;
};

void print_table(const std::string& label, const std::vector<analysis::ProbeScore>& table) {
  std::cout << label << " (held-out R² for nuisances, chance 0; accuracy for class, its chance below)\n";
  std::vector<std::string> targets;
  for (const auto& s : table)
    if (s.level == 0) targets.push_back(s.target);
  std::cout << std::left << std::setw(10) << "level";
  for (const auto& t : targets) std::cout << std::right << std::setw(11) << t;
  std::cout << "\n" << std::fixed << std::setprecision(3);
  for (size_t i = 0; i < table.size(); i += targets.size()) {
    std::cout << std::left << std::setw(10) << table[i].level_name << std::right;
    for (size_t t = 0; t < targets.size(); ++t) std::cout << std::setw(11) << table[i + t].score;
    std::cout << "\n";
  }
  std::cout << "class chance " << table[0].chance << "\n" << std::defaultfloat;
}

void run_probe(const ProbeCliOptions& o) {
  if (!o.labels.empty() && o.labels.size() != o.checkpoints.size())
    throw Error("--label: give one per --checkpoint (" + std::to_string(o.checkpoints.size()) + "), got " +
                std::to_string(o.labels.size()));
  const Dataset data = load_dataset(o.data, Split::Train);
  if (data.nuisance_names.empty())
    throw Error("--data " + o.data + " has no known nuisances to decode (use synthetic or synthetic-rgb)");
  std::vector<size_t> indices(std::min(o.images, data.size()));
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  std::vector<std::string> labels = o.labels;
  for (size_t m = labels.size(); m < o.checkpoints.size(); ++m)
    labels.push_back(std::filesystem::path(o.checkpoints[m]).stem().string());
  analysis::ProbeOptions probe = o.probe;
  probe.threads = o.threads;
  std::vector<std::vector<analysis::ProbeScore>> tables;
  for (size_t m = 0; m < o.checkpoints.size(); ++m) {
    const auto start = std::chrono::steady_clock::now();
    const LoadedModel loaded = load_for_inference(o.checkpoints[m], o.backend, o.threads);
    tables.push_back(analysis::probe_model(*loaded.model, data, indices, probe));
    print_table(labels[m], tables.back());
    std::cout << "(" << indices.size() << " images, " << std::setprecision(3)
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s)\n\n";
  }
  std::filesystem::create_directories(o.out);
  write_file_atomically(o.out + "/probe.csv", analysis::probe_table_csv(labels, tables));
  write_png(o.out + "/probe.png", analysis::plot_probe_tables(tables));
  std::cout << "wrote " << o.out << "/probe.csv and " << o.out << "/probe.png\n";
}

}  // namespace

void register_probe_command(CLI::App& app) {
  auto o = std::make_shared<ProbeCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "probe", "Linear decoding of known nuisances per level: at the pixels and at every layer of each model, ridge\n"
               "probes predict each nuisance of the synthetic set (scored by held-out R², chance 0) and a least-squares\n"
               "classifier the class (held-out accuracy against the majority rate). Levels with more than\n"
               "--max-features values are average-pooled per channel to a g×g grid first. Writes DIR/probe.csv and\n"
               "DIR/probe.png (one panel per model, one line per target, score -0.2..1 upwards, level rightwards).");
  cmd->add_option("--checkpoint", o->checkpoints, "A trained model (repeat to compare models)")->required();
  cmd->add_option("--label", o->labels, "A name per --checkpoint for the table (default: the file name)");
  cmd->add_option("--data", o->data, "synthetic or synthetic-rgb (a dataset with known nuisances)")->capture_default_str();
  cmd->add_option("--images", o->images, "How many training images to probe on")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--heldout", o->probe.heldout, "Fraction of them held out for scoring")->check(CLI::Range(0.05, 0.9))->capture_default_str();
  cmd->add_option("--seed", o->probe.seed, "Seed of the split")->capture_default_str();
  cmd->add_option("--max-features", o->probe.max_features, "Pool a level to at most this many values per image")
      ->check(CLI::Range(size_t(1), size_t(4096)))->capture_default_str();
  cmd->add_option("--out", o->out, "Output folder")->required();
  add_backend_options(cmd, o->backend, o->threads);
  cmd->footer("Example:\n  drmm probe --checkpoint drmm.bin --checkpoint cnn.bin --label drmm --label cnn --data synthetic --out probe/");
  cmd->callback([o] { run_probe(*o); });
}

}  // namespace drmm::cli
