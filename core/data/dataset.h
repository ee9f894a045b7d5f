#pragma once
// Datasets (DESIGN.md §3.7): N images, each C×H×W float in [0,1], an integer label per
// image, class names, and optional per-image nuisance variables (known for the synthetic
// renderer: shift, scale, rotation, intensity, noise).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace drmm {

enum class Split { Train, Test };

struct Dataset {
  std::string name;                  // "fashion-mnist", "synthetic", or the path it came from
  std::string format;                // how it was stored, for people: "IDX (gzip)", "CIFAR-10 binary", …
  int channels = 1, height = 0, width = 0;
  std::vector<float> pixels;         // size() · channels · height · width, image-major, CHW
  std::vector<int> labels;           // size(), each in [0, num_classes())
  std::vector<std::string> class_names;
  std::vector<std::string> nuisance_names;  // empty when the data has no known nuisances
  std::vector<float> nuisances;             // size() · nuisance_names.size(), image-major

  size_t size() const { return labels.size(); }
  int num_classes() const { return int(class_names.size()); }
  size_t image_size() const { return size_t(channels) * size_t(height) * size_t(width); }
  std::span<const float> image(size_t i) const { return {pixels.data() + i * image_size(), image_size()}; }
  // Images first .. first + count − 1, one after the other.
  std::span<const float> images(size_t first, size_t count) const {
    return {pixels.data() + first * image_size(), count * image_size()};
  }
  std::vector<size_t> class_counts() const;
  // The mean of the squared pixel values over every image: L_RC's unit (StepOptions::image_energy);
  // 1 for a dataset with no images or only black ones, so that it can always divide.
  double mean_pixel_energy() const;
};

// Images `indices` of `data`, one after the other (CHW each); throws Error for an index out of range.
std::vector<float> gather_images(const Dataset& data, std::span<const size_t> indices);

// Loads a dataset from a name ("fashion-mnist", "synthetic", "synthetic-rgb") or a path (an
// IDX images file, a CIFAR-10 batch file or folder, a folder of class sub-folders of PNGs).
// The format is detected from the content. Throws drmm::FileError naming the file and the
// problem on any malformed input.
Dataset load_dataset(const std::string& spec, Split split = Split::Train);

// Whether `spec` has the split: every loadable dataset has Train (for a single file, the
// file itself); Test exists for the named datasets, a folder of IDX files with t10k-* files,
// a train-* IDX images file with its t10k-* sibling, a CIFAR-10 folder, and a data_batch_N.bin
// with test_batch.bin beside it; a class folder has none. False when nothing loads at `spec`.
bool has_split(const std::string& spec, Split split);

// A balanced semi-supervised split: `labeled_count` image indices, equal per class (the
// remainder spread over the first classes), chosen with `seed`; every other index is
// unlabeled. Throws drmm::Error when a class has too few images.
struct LabeledSplit {
  std::vector<size_t> labeled;
  std::vector<size_t> unlabeled;
};
LabeledSplit make_labeled_split(const Dataset& data, size_t labeled_count, uint64_t seed);

}  // namespace drmm
