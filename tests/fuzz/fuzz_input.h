#pragma once
// What every fuzz target shares: the input is written to a file (the loaders read paths, as the
// programs do), and the only acceptable failure is a drmm::Error — anything else (a crash, a
// sanitizer report, another exception, a hang) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/util/error.h"

namespace drmm::fuzz {

inline std::filesystem::path scratch_name() {
  return std::filesystem::temp_directory_path() / ("drmm-fuzz-" + std::to_string(::getpid()));
}

// A folder of this process's own, removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path folder = [] {
    std::filesystem::create_directories(scratch_name());
    std::atexit([] { std::filesystem::remove_all(scratch_name()); });
    return scratch_name();
  }();
  return folder;
}

inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

// Runs `load`; a drmm::Error is the clean refusal every malformed input must get.
template <typename Load>
void refuse_cleanly(Load load) {
  try {
    load();
  } catch (const Error&) {
  }
}

}  // namespace drmm::fuzz
