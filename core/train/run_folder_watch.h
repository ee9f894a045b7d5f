#pragma once
// A run folder written by another process (drmm train elsewhere, the scale-out trainer in
// core/scaleout) as the studio watches it: which of its files changed since they were last
// taken, and how old its checkpoint is. Both writers replace checkpoint.bin by an atomic rename,
// so a file seen here is always whole; metrics.csv grows by appended lines.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace drmm {

class RunFolderWatch {
 public:
  explicit RunFolderWatch(std::string folder);
  const std::string& folder() const { return folder_; }
  std::string checkpoint_path() const;  // folder/checkpoint.bin
  std::string metrics_path() const;     // folder/metrics.csv

  // Whether each file is there and differs (time, size or file) from when it was last taken;
  // taking it marks the version seen now, so a file that fails to load is not retried until it
  // changes again.
  bool take_new_checkpoint() { return take_if_new(checkpoint_path(), checkpoint_seen_); }
  bool take_new_metrics() { return take_if_new(metrics_path(), metrics_seen_); }
  // Seconds since the checkpoint was last written; nullopt while there is none.
  std::optional<double> checkpoint_age_seconds() const;

 private:
  struct Stamp {
    int64_t write_time = 0;  // file_clock ticks
    uint64_t size = 0, inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  static std::optional<Stamp> stamp_of(const std::string& path);
  static bool take_if_new(const std::string& path, std::optional<Stamp>& seen);

  std::string folder_;
  std::optional<Stamp> checkpoint_seen_, metrics_seen_;
};

}  // namespace drmm
