#pragma once
// CIFAR-10 binary batches. Format from Krizhevsky, "The CIFAR-10 dataset",
// https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version": each file is a sequence of
// 3073-byte records, one label byte (0..9) then 3072 pixel bytes, the 1024 red values, then
// green, then blue, each 32x32 row-major (so already channel-major, as Dataset stores it).
// The folder holds data_batch_1.bin … data_batch_5.bin, test_batch.bin and batches.meta.txt
// (the class names, one per line).
#include <cstdint>
#include <string>

#include "core/data/dataset.h"

namespace drmm {

constexpr int kCifarSide = 32, kCifarChannels = 3, kCifarClasses = 10;
constexpr uint64_t kCifarRecordBytes = 1 + kCifarChannels * kCifarSide * kCifarSide;

// Whether `folder` is laid out as the CIFAR-10 binary release (has data_batch_1.bin or
// test_batch.bin).
bool is_cifar_folder(const std::string& folder);
// The test batch beside a data_batch_N.bin file, or "" when there is none.
std::string cifar_test_path_for(const std::string& batch_path);

// One batch file. Class names come from batches.meta.txt beside it, else the standard ones.
Dataset load_cifar_batch(const std::string& path);
// The five training batches of a CIFAR-10 folder, or its test batch.
Dataset load_cifar_folder(const std::string& folder, Split split);

}  // namespace drmm
