#pragma once
// Every file the programs read is checked by type before it is opened: opening a named pipe
// (FIFO) blocks until a writer appears, a device can stream forever, and a folder read as a file
// fails inside the C++ library with an unhelpful message.
#include <cstdint>
#include <string>

namespace drmm {

// The size of `path`; throws drmm::FileError naming it when it does not exist, is a folder, or
// is anything but a regular file (a FIFO, a device, a socket).
uint64_t regular_file_size(const std::string& path);

}  // namespace drmm
