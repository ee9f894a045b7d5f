#pragma once
// The PyTorch reference of `drmm bench --torch` (tests/bench/drmm_step_torch.py under Debian's
// /usr/bin/python3 with python3-torch) as a child process kept alive for the whole run: it
// builds and warms up its model once, then times as many rounds of steps as asked, so that
// its rounds can alternate with ours and both see the machine in the same state.
#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>

namespace drmm::cli {

struct TorchReferenceOptions {
  std::string preset;
  int batch = 100, warmup = 2, threads = 2;
};

class TorchReference {
 public:
  // Starts the script and waits until it is warmed up; on failure returns null and says why
  // in `error` (the script's own messages went to stderr).
  static std::unique_ptr<TorchReference> start(const TorchReferenceOptions& options, std::string& error);
  ~TorchReference();
  TorchReference(const TorchReference&) = delete;
  TorchReference& operator=(const TorchReference&) = delete;

  // Seconds that `steps` steps took there, or −1 if the process stopped answering.
  double seconds_for(int steps);

 private:
  TorchReference(pid_t pid, FILE* to_child, FILE* from_child) : pid_(pid), to_(to_child), from_(from_child) {}
  std::string read_line();

  pid_t pid_;
  FILE* to_;
  FILE* from_;
};

}  // namespace drmm::cli
