// A PNG image as the class-folder datasets read it (core/util/png_io.h, core/data/png_folder.h).
#include <filesystem>

#include "core/data/png_folder.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path folder = drmm::fuzz::scratch() / "classes";
  std::filesystem::create_directories(folder / "a");
  std::filesystem::create_directories(folder / "b");
  drmm::fuzz::write_input("classes/a/0.png", data, size);
  drmm::fuzz::write_input("classes/b/0.png", data, size / 2);
  drmm::fuzz::refuse_cleanly([&] { drmm::load_png_folder(folder); });
  return 0;
}
