#include "core/util/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/util/error.h"

namespace drmm {
namespace {

// Makes a finished rename durable; a failure here leaves a complete file, so it is not an error.
void sync_folder_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const int fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Removes `<name>.tmp-<pid>` beside `path` for every pid that no longer runs.
void remove_stale_temps(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = target.filename().string() + ".tmp-";
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    char* rest = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &rest, 10);
    if (pid <= 0 || *rest != '\0') continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) fs::remove(it->path(), error);
  }
}

}  // namespace

std::string atomic_temp_name(const std::string& path, long pid) { return path + ".tmp-" + std::to_string(pid); }

void write_file_atomically(const std::string& path, const std::string& text) {
  write_file_atomically(path, std::span<const char>(text.data(), text.size()));
}

void write_file_atomically(const std::string& path, std::span<const char> bytes) {
  remove_stale_temps(path);
  const std::string temp = atomic_temp_name(path, long(::getpid()));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw FileError(path, std::string("cannot create: ") + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      const std::string reason = n < 0 ? std::strerror(errno) : "nothing written (disk full?)";
      ::close(fd);
      std::remove(temp.c_str());
      throw FileError(path, "write failed: " + reason + "; the previous file is unchanged");
    }
    written += size_t(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    throw FileError(path, "cannot save: " + reason + "; the previous file is unchanged");
  }
  sync_folder_of(path);
}

}  // namespace drmm
