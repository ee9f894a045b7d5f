#pragma once
// Runs the built `drmm` binary as a person would and captures exit status, stdout, stderr.
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "tests/core/dataset_test_files.h"

namespace drmm::test {

struct Outcome {
  int status;
  std::string out, err;
};

// Runs `drmm <arguments>` (arguments are shell words, quoted by the caller where needed).
inline Outcome run_drmm(const TempDir& dir, const std::string& arguments) {
  const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
  // `timeout`: a command that hangs (reading a pipe, a deadlock) fails with status 124.
  const std::string command = "timeout 300 " + std::string(DRMM_BIN_DIR) + "/drmm " + arguments + " >" + out + " 2>" + err;
  const int raw = std::system(command.c_str());
  const auto text = [](const std::string& path) {
    const Bytes bytes = read_file(path);
    return std::string(bytes.begin(), bytes.end());
  };
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, text(out), text(err)};
}

}  // namespace drmm::test
