#pragma once
// One exception type for every failure the engine reports to a person: the message names
// the file or setting and says what is wrong. The CLI prints it and exits with status 1.
#include <stdexcept>
#include <string>

namespace drmm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure that belongs to a file: the message becomes "<path>: <what>".
class FileError : public Error {
 public:
  FileError(const std::string& path, const std::string& what) : Error(path + ": " + what), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace drmm
