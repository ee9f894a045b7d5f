// drmm bench: images/s of one full DRMM training step per preset and backend, GFLOP/s of
// the convolution kernels, and (with --torch) PyTorch's figure for the same step measured in
// the same run, so the ratio is taken on one machine in one state.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/drmm/commands.h"
#include "core/backend/select/backend_factory.h"
#include "core/backend/select/kernel_timing.h"
#include "core/train/step_benchmark.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

struct BenchOptions {
  std::string backend = "cpu";
  std::vector<std::string> presets{"tiny", "convsmall"};
  int batch = 100, steps = 10, warmup = 2, threads = 2, kernel_repeats = 5;
  bool torch = false, kernels = false;
};

std::string torch_script() { return std::string(DRMM_ASSETS_DIR) + "/../tests/bench/drmm_step_torch.py"; }

// Runs the PyTorch reference (Debian's python3-torch) and returns its images/s, or −1 with a
// message on stderr when it cannot run.
double torch_images_per_second(const std::string& preset, const BenchOptions& o) {
  std::ostringstream command;
  command << "/usr/bin/python3 '" << torch_script() << "' --preset '" << preset << "' --batch " << o.batch
          << " --labeled " << o.batch / 2 << " --steps " << o.steps << " --warmup " << o.warmup << " --threads "
          << o.threads << " 2>&1";
  FILE* pipe = ::popen(command.str().c_str(), "r");
  if (!pipe) return -1;
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = ::pclose(pipe);
  const auto at = output.find("images_per_second ");
  if (status != 0 || at == std::string::npos) {
    std::cerr << "torch reference failed (" << command.str() << "):\n" << output;
    return -1;
  }
  return std::stod(output.substr(at + 18));
}

std::vector<std::string> backends_of(const std::string& choice) {
  if (choice == "all") return {"cpu", "vulkan"};
  return {choice};
}

void print_kernels(Backend& backend, const BenchOptions& o) {
  const auto timings = time_conv_kernels(backend, o.batch, o.kernel_repeats);
  std::cout << "\nconv kernels of convsmall on " << backend.name() << " (batch " << o.batch << ")\n";
  std::cout << std::left << std::setw(34) << "layer" << std::setw(18) << "kernel" << std::right << std::setw(10)
            << "ms" << std::setw(10) << "GFLOP/s" << "\n";
  for (const ConvKernelTiming& t : timings)
    std::cout << std::left << std::setw(34) << t.layer << std::setw(18) << t.kernel << std::right << std::fixed
              << std::setprecision(2) << std::setw(10) << t.seconds * 1e3 << std::setw(10) << std::setprecision(1)
              << t.gflops << "\n";
  std::cout << "convolutions alone allow " << std::setprecision(0) << conv_images_per_second(timings)
            << " images/s\n";
}

void run_bench(const BenchOptions& o) {
  std::cout << "DRMM training step (bottom-up + top-down, L_H + L_RC + L_KL + L_NN, both passes' gradients, "
               "SGD), batch "
            << o.batch << ", " << o.threads << " threads, " << o.steps << " timed steps\n";
  std::cout << std::left << std::setw(12) << "preset" << std::setw(34) << "backend" << std::right << std::setw(12)
            << "images/s";
  if (o.torch) std::cout << std::setw(14) << "torch img/s" << std::setw(10) << "ratio";
  std::cout << "\n";
  std::vector<std::unique_ptr<Backend>> backends;
  for (const std::string& name : backends_of(o.backend)) {
    std::string notice;
    backends.push_back(make_backend(name, o.threads, &notice));
    if (!notice.empty()) std::cerr << notice << "\n";
  }
  for (const std::string& preset : o.presets) {
    const ModelSpec spec = load_model_spec(preset);
    const double torch = o.torch ? torch_images_per_second(preset, o) : -1;
    for (auto& backend : backends) {
      const StepTiming t = time_training_step(*backend, spec, o.batch, o.steps, o.warmup);
      std::cout << std::left << std::setw(12) << spec.name << std::setw(34) << backend->name() << std::right
                << std::fixed << std::setprecision(1) << std::setw(12) << t.images_per_second;
      if (o.torch && torch > 0)
        std::cout << std::setw(14) << torch << std::setw(9) << std::setprecision(2) << t.images_per_second / torch
                  << "x";
      std::cout << "\n" << std::flush;
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
  bench->add_option("--steps", o->steps, "Timed steps")->check(CLI::Range(1, 100000))->capture_default_str();
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
