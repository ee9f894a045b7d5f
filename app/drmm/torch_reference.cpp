#include "app/drmm/torch_reference.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <string>
#include <vector>

namespace drmm::cli {

namespace {

std::string torch_script() { return std::string(DRMM_ASSETS_DIR) + "/../tests/bench/drmm_step_torch.py"; }
constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

std::unique_ptr<TorchReference> TorchReference::start(const TorchReferenceOptions& o, std::string& error) {
  std::signal(SIGPIPE, SIG_IGN);  // a reference that died fails a write instead of killing us
  int down[2], up[2];             // parent → child, child → parent
  if (::pipe(down) != 0) {
    error = "cannot create a pipe to the PyTorch reference";
    return nullptr;
  }
  if (::pipe(up) != 0) {
    ::close(down[0]);
    ::close(down[1]);
    error = "cannot create a pipe to the PyTorch reference";
    return nullptr;
  }
  const std::vector<std::string> args{kPython,      torch_script(),
                                      "--preset",   o.preset,
                                      "--batch",    std::to_string(o.batch),
                                      "--labeled",  std::to_string(o.batch / 2),
                                      "--warmup",   std::to_string(o.warmup),
                                      "--threads",  std::to_string(o.threads),
                                      "--serve"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {  // the child: stdin from `down`, stdout into `up`, stderr shared
    ::dup2(down[0], STDIN_FILENO);
    ::dup2(up[1], STDOUT_FILENO);
    for (int fd : {down[0], down[1], up[0], up[1]}) ::close(fd);
    ::execv(kPython, argv.data());
    std::perror(kPython);
    ::_exit(127);
  }
  ::close(down[0]);
  ::close(up[1]);
  if (pid < 0) {
    ::close(down[1]);
    ::close(up[0]);
    error = "cannot start " + std::string(kPython);
    return nullptr;
  }
  std::unique_ptr<TorchReference> reference(new TorchReference(pid, ::fdopen(down[1], "w"), ::fdopen(up[0], "r")));
  if (!reference->to_ || !reference->from_ || reference->read_line() != "ready") {
    error = "the PyTorch reference (" + torch_script() + " under " + kPython +
            " with python3-torch) did not start; its messages are above";
    return nullptr;
  }
  return reference;
}

TorchReference::~TorchReference() {
  if (to_) std::fclose(to_);  // end of input: the script returns
  if (from_) std::fclose(from_);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

std::string TorchReference::read_line() {
  std::string line;
  if (!from_) return line;
  for (int c; (c = std::fgetc(from_)) != EOF && c != '\n';) line += char(c);
  return line;
}

double TorchReference::seconds_for(int steps) {
  if (!to_ || std::fprintf(to_, "%d\n", steps) < 0 || std::fflush(to_) != 0) return -1;
  const std::string line = read_line();
  const std::string prefix = "seconds ";
  if (line.compare(0, prefix.size(), prefix) != 0) return -1;
  return std::stod(line.substr(prefix.size()));
}

}  // namespace drmm::cli
