// The forest file: exact round trip, and a clear drmm::FileError for every kind of damage.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/tree/forest_io.h"
#include "core/util/error.h"
#include "tests/core/tree_test_data.h"

namespace drmm::tree {
namespace {

namespace fs = std::filesystem;

class TreeForestIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("drmm_tree_io_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    samples_ = testing::evolutionary_samples(300, 3, 0.05f, 9);
    ForestOptions o;
    o.trees = 3;
    o.tree.children = 3;
    o.tree.candidates = 4;
    o.threads = 1;
    forest_ = train_forest(samples_.features(), samples_.labels, samples_.class_names, o);
    path_ = (dir_ / "forest.bin").string();
    save_forest(forest_, path_);
    bytes_ = read(path_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<char> read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::string write(const std::string& name, const std::vector<char>& bytes) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    return path;
  }
  // The message load_forest gives for `bytes`, or "" when it loads.
  std::string load_error(const std::vector<char>& bytes) const {
    const std::string path = write("damaged.bin", bytes);
    try {
      load_forest(path);
    } catch (const FileError& e) {
      EXPECT_EQ(e.path(), path);
      return e.what();
    }
    return "";
  }
  // The body changed at `offset` and the checksum recomputed, so only the structural checks
  // stand between the damage and the trees.
  std::vector<char> with_body_change(size_t offset, const void* value, size_t size) const {
    std::vector<char> b = bytes_;
    std::memcpy(b.data() + 32 + offset, value, size);
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
    for (size_t i = 32; i < b.size(); ++i) h = (h ^ uint8_t(b[i])) * 0x100000001b3ull;
    std::memcpy(b.data() + 24, &h, 8);
    return b;
  }
  // Body offset of tree 0's first node record.
  size_t first_node_offset() const {
    size_t offset = 6 * 4;
    for (const std::string& name : forest_.class_names) offset += 4 + name.size();
    return offset + 3 * 4 + size_t(forest_.num_features) * 4;
  }

  fs::path dir_;
  testing::Samples samples_;
  Forest forest_;
  std::string path_;
  std::vector<char> bytes_;
};

TEST_F(TreeForestIo, RoundTripIsExact) {
  const Forest loaded = load_forest(path_);
  EXPECT_EQ(loaded.num_features, forest_.num_features);
  EXPECT_EQ(loaded.num_classes, forest_.num_classes);
  EXPECT_EQ(loaded.class_names, forest_.class_names);
  EXPECT_EQ(loaded.shape.channels, forest_.shape.channels);
  EXPECT_EQ(loaded.shape.height, forest_.shape.height);
  EXPECT_EQ(loaded.shape.width, forest_.shape.width);
  ASSERT_EQ(loaded.trees.size(), forest_.trees.size());
  for (size_t t = 0; t < loaded.trees.size(); ++t) {
    const ObliqueTree &a = loaded.trees[t], &b = forest_.trees[t];
    EXPECT_EQ(a.root_template, b.root_template);
    EXPECT_EQ(a.support, b.support);
    EXPECT_EQ(a.mutations, b.mutations);
    EXPECT_EQ(a.class_counts, b.class_counts);
    ASSERT_EQ(a.nodes.size(), b.nodes.size());
    EXPECT_EQ(0, std::memcmp(a.nodes.data(), b.nodes.data(), a.nodes.size() * sizeof(TreeNode)));
  }
  const Features f = samples_.features();
  for (size_t i = 0; i < f.rows; ++i) ASSERT_EQ(loaded.predict_proba(f.row(i)), forest_.predict_proba(f.row(i)));
  save_forest(loaded, (dir_ / "again.bin").string());
  EXPECT_EQ(read((dir_ / "again.bin").string()), bytes_);
}

TEST_F(TreeForestIo, MissingFile) {
  EXPECT_THROW(load_forest((dir_ / "nope.bin").string()), FileError);
}

TEST_F(TreeForestIo, TooShortForAHeader) {
  EXPECT_NE(load_error({'D', 'R', 'M'}).find("shorter than the header"), std::string::npos);
}

TEST_F(TreeForestIo, BadMagic) {
  std::vector<char> b = bytes_;
  b[0] = 'X';
  EXPECT_NE(load_error(b).find("bad magic"), std::string::npos);
}

TEST_F(TreeForestIo, UnsupportedVersion) {
  std::vector<char> b = bytes_;
  b[8] = 7;
  EXPECT_NE(load_error(b).find("version 7 is not supported"), std::string::npos);
}

TEST_F(TreeForestIo, TruncatedOrPadded) {
  std::vector<char> b(bytes_.begin(), bytes_.end() - 10);
  EXPECT_NE(load_error(b).find("truncated or padded"), std::string::npos);
  b = bytes_;
  b.push_back(0);
  EXPECT_NE(load_error(b).find("truncated or padded"), std::string::npos);
}

TEST_F(TreeForestIo, FlippedByteFailsTheChecksum) {
  std::vector<char> b = bytes_;
  b[b.size() / 2] ^= 0x10;
  EXPECT_NE(load_error(b).find("checksum mismatch"), std::string::npos);
}

TEST_F(TreeForestIo, StructuralDamageBehindAValidChecksum) {
  const size_t node0 = first_node_offset();
  const int32_t far_child = 1 << 30;
  EXPECT_NE(load_error(with_body_change(node0 + 4, &far_child, 4)).find("children out of range"), std::string::npos);
  const uint32_t huge = 0xffffffffu;
  EXPECT_NE(load_error(with_body_change(6 * 4, &huge, 4)).find("truncated in class names"), std::string::npos);
  const uint32_t no_trees = 0;
  EXPECT_NE(load_error(with_body_change(0, &no_trees, 4)).find("no trees"), std::string::npos);
  const uint32_t wrong_width = 5;
  EXPECT_NE(load_error(with_body_change(5 * 4, &wrong_width, 4)).find("does not match"), std::string::npos);
  const uint32_t bad_support = 1u << 31;
  EXPECT_NE(load_error(with_body_change(node0 + 20, &bad_support, 4)).find("support out of range"), std::string::npos);
  const float nan = NAN;
  EXPECT_NE(load_error(with_body_change(node0 + 32 + 28, &nan, 4)).find("bias is not finite"), std::string::npos);
}

// A full disk during a save once destroyed the previous forest and left a truncated file. The
// disk is made "full" in a child process by a file-size limit of 64 bytes (writes beyond it fail
// with EFBIG): the save must fail and leave the old forest loadable and no temporary file behind.
TEST_F(TreeForestIo, ASaveThatRunsOutOfSpaceKeepsThePreviousForest) {
  const std::vector<char> before = [&] {
    std::ifstream in(path_, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  ASSERT_GT(before.size(), 64u);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64, 64};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      save_forest(forest_, path_);
    } catch (const FileError& e) {
      ::_exit(std::strstr(e.what(), "previous file is unchanged") ? 3 : 4);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << "0: the save claimed success; 4: another error";
  std::ifstream in(path_, std::ios::binary);
  EXPECT_EQ(std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), before);
  EXPECT_NO_THROW(load_forest(path_));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST_F(TreeForestIo, UnwritablePath) {
  EXPECT_THROW(save_forest(forest_, (dir_ / "no" / "such" / "dir.bin").string()), FileError);
}

}  // namespace
}  // namespace drmm::tree
