// `drmm`: the headless command line. Thin: each command group lives in its own file and
// calls into core/. Exit status: 0 success, 1 failure (message on stderr), 2 usage error.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <new>

#include "app/drmm/commands.h"
#include "core/util/error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "drmm: train and inspect Deep Rendering Mixture Models (DRMM) from the command line.\n"
      "A dataset is a name (fashion-mnist, synthetic) or a path: an IDX images file, a CIFAR-10\n"
      "batch file or folder, or a folder with one sub-folder of PNG images per class.",
      "drmm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "drmm 0.1.0");
  drmm::cli::register_data_commands(app);
  drmm::cli::register_tree_commands(app);
  drmm::cli::register_train_commands(app);
  drmm::cli::register_bench_command(app);
  drmm::cli::register_generate_commands(app);
  drmm::cli::register_onnx_commands(app);
  drmm::cli::register_probe_command(app);
  drmm::cli::register_compare_command(app);
  drmm::cli::register_rmm_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const drmm::Error& e) {
    std::cerr << "drmm: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "drmm: error: out of memory (the model, the batch or a dataset is larger than this machine can hold; "
                 "try a smaller --batch or model)\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "drmm: error: " << e.path1().string() << ": " << e.code().message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "drmm: unexpected error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
