#pragma once
// IDX files (MNIST, Fashion-MNIST). Format from LeCun, Cortes & Burges, "The MNIST database of
// handwritten digits", http://yann.lecun.com/exdb/mnist/, section "FILE FORMATS": a big-endian
// magic whose third byte is the element type (0x08 = unsigned byte) and fourth the number of
// dimensions, then each dimension as a big-endian int32, then the elements, row-major.
// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) uses the same files, gzip-compressed.
#include <cstdint>
#include <span>
#include <string>

#include "core/data/dataset.h"

namespace drmm {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions: N, H, W
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension: N

// The labels file beside an images file (train-images-idx3-ubyte[.gz] → train-labels-idx1-
// ubyte, with or without .gz), or "" when there is none.
std::string idx_labels_path_for(const std::string& images_path);
// The test-split images file of a train- images file (its t10k- sibling), or "".
std::string idx_test_path_for(const std::string& images_path);
// The images file `<stem>` or `<stem>.gz` in `folder`, e.g. stem "train-images-idx3-ubyte";
// "" when neither exists.
std::string find_idx_file(const std::string& folder, const std::string& stem);

// Loads an images file and its labels file. With `class_names` empty the classes are the
// label values "0", "1", … up to the largest label; otherwise every label must index
// `class_names`. Throws drmm::FileError naming the file and the problem.
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::span<const std::string> class_names = {});

}  // namespace drmm
