#pragma once
// Every file the programs save replaces the old one whole or not at all: a full disk, a kill or
// a power cut in the middle of a save leaves the previous file intact.
#include <span>
#include <string>

namespace drmm {

// Writes `bytes` to `path` atomically: a temporary file beside it (same folder, so the rename
// cannot cross file systems), fsync, rename over `path`, fsync of the folder (so the rename
// itself survives a crash). On failure the temporary file is removed, `path` is untouched, and
// drmm::FileError names `path` and the reason.
void write_file_atomically(const std::string& path, std::span<const char> bytes);

}  // namespace drmm
