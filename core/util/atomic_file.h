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
// Temporary files of earlier saves of `path` whose process is gone (killed in the middle of a
// save) are removed first.
void write_file_atomically(const std::string& path, std::span<const char> bytes);
void write_file_atomically(const std::string& path, const std::string& text);

// The temporary name a save of `path` by process `pid` uses (for tests and for cleaning).
std::string atomic_temp_name(const std::string& path, long pid);

}  // namespace drmm
