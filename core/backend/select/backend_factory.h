#pragma once
// Picks the compute backend for `--backend vulkan|cpu|auto` (DESIGN.md §3.1, issue 5).
#include <memory>
#include <string>

#include "core/backend/backend.h"

namespace drmm {

inline constexpr const char* kBackendChoices[] = {"auto", "vulkan", "cpu"};

// name: "cpu", "vulkan" or "auto"; threads: for the cpu backend (0 = all cores).
// - "vulkan" without a usable Vulkan loader or device returns the cpu backend and sets
//   *notice to the one line "vulkan: <reason>; using cpu" — never an exception or a crash.
// - "auto" takes vulkan only when a discrete or integrated GPU exists. A CPU-type Vulkan
//   device (Mesa lavapipe/llvmpipe) is slower than the cpu backend on the same cores (see
//   backend_factory.cpp), so then it takes cpu; *notice says which and why.
// Any other name throws drmm::Error. `notice` may be null; it is cleared otherwise.
std::unique_ptr<Backend> make_backend(const std::string& name, int threads, std::string* notice);

}  // namespace drmm
