// drmm bench: images/s of one full DRMM training step per preset and backend, GFLOP/s of
// the convolution kernels, and (with --torch) PyTorch's figure for the same step measured in
// the same run, so the ratio is taken on one machine in one state.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "app/drmm/commands.h"
#include "app/drmm/torch_reference.h"
#include "core/backend/select/backend_factory.h"
#include "core/backend/select/kernel_timing.h"
#include "core/train/step_benchmark.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

struct BenchOptions {
  std::string backend = "cpu";
  std::vector<std::string> presets{"tiny", "convsmall"};
  int batch = 100, steps = 10, rounds = 5, warmup = 2, threads = 2, kernel_repeats = 5;
  bool torch = false, kernels = false;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Images/s of each round, ours and (when it answers) PyTorch's, and their ratio per round.
struct RoundFigures {
  std::vector<double> ours, torch, ratios;
};

// `rounds` rounds of `steps` steps, ours and PyTorch's alternating, PyTorch first in every
// other round, so that a change in the machine's load between rounds hits both sides alike.
RoundFigures time_rounds(TrainingStepTimer& timer, TorchReference* torch, const BenchOptions& o) {
  RoundFigures f;
  auto time_torch = [&] {
    if (!torch) return;
    const double seconds = torch->seconds_for(o.steps);
    if (seconds <= 0) {
      std::cerr << "the PyTorch reference stopped answering; no ratio\n";
      torch = nullptr;
      return;
    }
    f.torch.push_back(double(o.batch) * o.steps / seconds);
  };
  for (int r = 0; r < o.rounds; ++r) {
    if (r % 2) time_torch();
    f.ours.push_back(timer.time(o.steps).images_per_second);
    if (r % 2 == 0) time_torch();
    if (torch) f.ratios.push_back(f.ours.back() / f.torch.back());
  }
  if (!torch) f.ratios.clear();
  return f;
}

std::vector<std::string> backends_of(const std::string& choice) {
  if (choice == "all") return {"cpu", "vulkan"};
  return {choice};
}

void print_kernels(Backend& backend, const BenchOptions& o) {
  const auto timings = time_conv_kernels(backend, o.batch, o.kernel_repeats);
  std::cout << "\nconv kernels of convsmall on " << backend.name() << " (batch " << o.batch
            << "; GFLOP/s counts the direct convolution's 2·N·Cout·Ho·Wo·Cin·k² operations, so a kernel that "
               "needs fewer, such as a Winograd one, can show more than the machine's peak)\n";
  std::cout << std::left << std::setw(34) << "layer" << std::setw(18) << "kernel" << std::right << std::setw(10)
            << "ms" << std::setw(10) << "GFLOP/s" << "\n";
  for (const ConvKernelTiming& t : timings)
    std::cout << std::left << std::setw(34) << t.layer << std::setw(18) << t.kernel << std::right << std::fixed
              << std::setprecision(2) << std::setw(10) << t.seconds * 1e3 << std::setw(10) << std::setprecision(1)
              << t.gflops << "\n";
  std::cout << "convolutions alone allow " << std::setprecision(0) << conv_images_per_second(timings)
            << " images/s\n";
}

// The table's columns: the backend column fits the longest device name (a GPU's can be long).
struct Columns {
  int preset = 12, backend = 34;
};

void print_header(const BenchOptions& o, const Columns& w) {
  std::cout << "DRMM training step (bottom-up + top-down, L_H + L_RC + L_KL + L_NN, both passes' gradients, "
               "SGD), batch "
            << o.batch << ", " << o.threads << " threads; median of " << o.rounds << " rounds of " << o.steps
            << " timed steps" << (o.torch ? ", ours and PyTorch's alternating" : "") << "\n";
  std::cout << std::left << std::setw(w.preset) << "preset" << std::setw(w.backend) << "backend" << std::right
            << std::setw(12) << "images/s";
  if (o.torch) std::cout << std::setw(14) << "torch img/s" << std::setw(10) << "ratio" << "   ratio range";
  std::cout << "\n";
}

void print_row(const Columns& w, const std::string& preset, const std::string& backend, const RoundFigures& f) {
  std::cout << std::left << std::setw(w.preset) << preset << std::setw(w.backend) << backend << std::right << std::fixed
            << std::setprecision(1) << std::setw(12) << median(f.ours);
  if (!f.ratios.empty()) {
    const auto [low, high] = std::minmax_element(f.ratios.begin(), f.ratios.end());
    std::cout << std::setw(14) << median(f.torch) << std::setw(9) << std::setprecision(2) << median(f.ratios)
              << "x   " << *low << "-" << *high << "x";
  }
  std::cout << "\n" << std::flush;
}

void run_bench(const BenchOptions& o) {
  std::vector<std::unique_ptr<Backend>> backends;
  Columns columns;
  for (const std::string& name : backends_of(o.backend)) {
    std::string notice;
    backends.push_back(make_backend(name, o.threads, &notice));
    if (!notice.empty()) std::cerr << notice << "\n";
    columns.backend = std::max(columns.backend, int(backends.back()->name().size()) + 2);
  }
  for (const std::string& preset : o.presets) columns.preset = std::max(columns.preset, int(preset.size()) + 2);
  print_header(o, columns);
  for (const std::string& preset : o.presets) {
    const ModelSpec spec = load_model_spec(preset);
    std::unique_ptr<TorchReference> torch;
    if (o.torch) {
      std::string error;
      torch = TorchReference::start({preset, o.batch, o.warmup, o.threads}, error);
      if (!torch) std::cerr << error << "\n";
    }
    for (auto& backend : backends) {
      TrainingStepTimer timer(*backend, spec, o.batch, o.warmup);
      print_row(columns, spec.name, backend->name(), time_rounds(timer, torch.get(), o));
    }
  }
  if (o.kernels)
    for (auto& backend : backends) print_kernels(*backend, o);
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand(
      "bench", "Images/s of a full DRMM training step per preset (and conv kernel GFLOP/s, PyTorch's figure)");
  bench->add_option("--backend", o->backend, "cpu, vulkan, auto, or all (cpu and vulkan side by side)")
      ->check(CLI::IsMember({"cpu", "vulkan", "auto", "all"}))
      ->capture_default_str();
  bench->add_option("--presets", o->presets, "Presets to time")->delimiter(',')->capture_default_str();
  bench->add_option("--batch", o->batch, "Images per step")->check(CLI::Range(2, 10000))->capture_default_str();
  bench->add_option("--steps", o->steps, "Timed steps per round")->check(CLI::Range(1, 100000))->capture_default_str();
  bench->add_option("--rounds", o->rounds, "Rounds; the figures are their medians")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  bench->add_option("--warmup", o->warmup, "Untimed steps first")->capture_default_str();
  bench->add_option("--threads", o->threads, "CPU threads, ours and PyTorch's (0: all cores)")->capture_default_str();
  bench->add_flag("--torch", o->torch,
                  "Also time the same step in PyTorch (tests/bench/drmm_step_torch.py, /usr/bin/python3 with "
                  "python3-torch) and print the ratio");
  bench->add_flag("--kernels", o->kernels, "Also print GFLOP/s of each convolution kernel of convsmall");
  bench->add_option("--kernel-repeats", o->kernel_repeats, "Timed calls per kernel")->capture_default_str();
  bench->callback([o] { run_bench(*o); });
}

}  // namespace drmm::cli
