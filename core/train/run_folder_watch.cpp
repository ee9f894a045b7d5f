#include "core/train/run_folder_watch.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

namespace drmm {

RunFolderWatch::RunFolderWatch(std::string folder) : folder_(std::move(folder)) {}

std::string RunFolderWatch::checkpoint_path() const { return (std::filesystem::path(folder_) / "checkpoint.bin").string(); }

std::string RunFolderWatch::metrics_path() const { return (std::filesystem::path(folder_) / "metrics.csv").string(); }

std::optional<RunFolderWatch::Stamp> RunFolderWatch::stamp_of(const std::string& path) {
  // The inode too: a rename puts a new file in place, possibly within one timestamp tick.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  return Stamp{int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec, uint64_t(info.st_size),
               uint64_t(info.st_ino)};
}

bool RunFolderWatch::take_if_new(const std::string& path, std::optional<Stamp>& seen) {
  const std::optional<Stamp> now = stamp_of(path);
  if (!now || now == seen) return false;
  seen = now;
  return true;
}

std::optional<double> RunFolderWatch::checkpoint_age_seconds() const {
  const std::optional<Stamp> stamp = stamp_of(checkpoint_path());
  if (!stamp) return std::nullopt;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const int64_t now_ns = int64_t(now.tv_sec) * 1000000000 + now.tv_nsec;
  return std::max(0.0, double(now_ns - stamp->write_time) * 1e-9);
}

}  // namespace drmm
