#pragma once
// Reading a dataset file whose content may be gzip-compressed, so loaders see the same bytes
// either way. Compression is detected from the content (the gzip magic 1f 8b, RFC 1952),
// not the file name. The loaders never size an allocation from a header before checking the
// header against max_content_size(), and content is read in bounded chunks, so a lying
// header costs at most what the file really holds.
#include <cstdint>
#include <string>
#include <vector>

struct gzFile_s;  // zlib's gzFile, kept out of this header

namespace drmm {

class DataFile {
 public:
  // Throws drmm::FileError when the path cannot be opened or is not a regular file.
  explicit DataFile(std::string path);
  ~DataFile();
  DataFile(const DataFile&) = delete;
  DataFile& operator=(const DataFile&) = delete;

  const std::string& path() const { return path_; }
  bool gzipped() const { return gzipped_; }
  uint64_t stored_size() const { return stored_size_; }
  // How many content bytes the file can possibly hold: its size when stored raw; for gzip,
  // deflate's maximum expansion (1032:1, zlib's FAQ / RFC 1951 block limits) of its size.
  uint64_t max_content_size() const;
  // Content bytes read so far.
  uint64_t position() const { return position_; }

  // Up to `count` bytes; fewer only at the end of the content.
  std::vector<uint8_t> read_up_to(size_t count);
  // Exactly `count` bytes; a shorter content throws "truncated: <what> needs ...".
  std::vector<uint8_t> read_exact(size_t count, const std::string& what);
  // Throws when content remains after `what` (a header that under-declares the data).
  void expect_end(const std::string& what);

  // "gzip" or "raw", for the format description a person sees.
  std::string storage() const { return gzipped_ ? "gzip" : "raw"; }

 private:
  void throw_if_stream_error();

  std::string path_;
  gzFile_s* gz_ = nullptr;  // zlib's gzread also reads raw files, transparently
  bool gzipped_ = false;
  uint64_t stored_size_ = 0;
  uint64_t position_ = 0;
};

}  // namespace drmm
