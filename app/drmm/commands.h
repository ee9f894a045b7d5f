#pragma once
// Each command group registers its sub-commands; the callbacks run inside app.parse() and
// report failures by throwing drmm::Error.
#include <CLI/CLI.hpp>

namespace drmm::cli {

void register_data_commands(CLI::App& app);   // drmm data info|show
void register_tree_commands(CLI::App& app);   // drmm tree train|eval|path
void register_train_commands(CLI::App& app);  // drmm train|eval|reconstruct
void register_bench_command(CLI::App& app);    // drmm bench
void register_generate_commands(CLI::App& app);  // drmm paths|sample|render|am
void register_onnx_commands(CLI::App& app);      // drmm import|export
void register_probe_command(CLI::App& app);      // drmm probe
void register_compare_command(CLI::App& app);    // drmm compare
void register_rmm_commands(CLI::App& app);       // drmm rmm train

}  // namespace drmm::cli
