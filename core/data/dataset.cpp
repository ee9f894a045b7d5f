// load_dataset: from a name or a path to the loader for its format. The format of a path is
// decided by its content (IDX magic, CIFAR-10 record structure, folder layout), never by
// its file name, so a renamed file still loads and a wrong file gets an error that says why.
#include "core/data/dataset.h"

#include <cstdlib>
#include <filesystem>

#include "core/data/bytes.h"
#include "core/data/cifar.h"
#include "core/data/data_file.h"
#include "core/data/idx.h"
#include "core/data/png_folder.h"
#include "core/data/synthetic.h"
#include "core/util/error.h"

namespace drmm {
namespace {

namespace fs = std::filesystem;

enum class Kind { Synthetic, SyntheticRgb, IdxFile, IdxFolder, CifarFile, CifarFolder, PngFolder };

// What a spec names, before a split is chosen.
struct Located {
  Kind kind;
  std::string path;                      // the file or folder ("" for the synthetic sets)
  std::string name;                      // Dataset::name
  std::vector<std::string> class_names;  // known names, or empty to number the labels
};

const char* const kIdxTrainImages = "train-images-idx3-ubyte";
const char* const kIdxTestImages = "t10k-images-idx3-ubyte";

// Label order from Xiao, Rasul & Vollgraf, "Fashion-MNIST" (2017), README of
// github.com/zalandoresearch/fashion-mnist.
std::vector<std::string> fashion_mnist_class_names() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

std::vector<std::string> digit_class_names() { return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; }

std::string env_or(const char* variable, const std::string& fallback) {
  const char* value = std::getenv(variable);
  return value && *value ? value : fallback;
}

bool is_folder(const std::string& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

Located locate_named_idx(const std::string& name, const char* env_variable, const std::string& default_folder,
                         const std::string& install_hint) {
  const std::string folder = env_or(env_variable, default_folder);
  if (!is_folder(folder))
    throw FileError(folder, "dataset '" + name + "' not found here: " + install_hint + ", or set " + env_variable +
                                " to a folder holding " + kIdxTrainImages + ".gz and its siblings");
  return {Kind::IdxFolder, folder, name, name == "mnist" ? digit_class_names() : fashion_mnist_class_names()};
}

// Reads the first bytes of a file (after gunzip) to tell IDX from CIFAR-10.
Kind detect_file_kind(const std::string& path) {
  DataFile file(path);
  const std::vector<uint8_t> head = file.read_up_to(4);
  const uint32_t magic = head.size() == 4 ? big_endian_u32(head.data()) : 0;
  if (head.size() == 4 && magic == kIdxImagesMagic) return Kind::IdxFile;
  if (head.size() == 4 && magic == kIdxLabelsMagic)
    throw FileError(path, "is an IDX labels file; give the images file (such as train-images-idx3-ubyte.gz), "
                          "its labels file is found beside it");
  const uint64_t size = file.stored_size();
  if (!file.gzipped() && size > 0 && size % kCifarRecordBytes == 0) return Kind::CifarFile;
  const std::string not_idx = head.size() == 4 ? "its first 4 bytes " + hex32(magic) + " are not the IDX images magic " +
                                                     hex32(kIdxImagesMagic)
                                               : "it holds only " + std::to_string(head.size()) + " bytes, too few for IDX";
  throw FileError(path, "unrecognized format: " + not_idx + ", and " +
                            (file.gzipped() ? std::string("a gzip file is read only as IDX")
                                            : "its size (" + std::to_string(size) + " bytes) is not a whole number of " +
                                                  std::to_string(kCifarRecordBytes) + "-byte CIFAR-10 records"));
}

Kind detect_folder_kind(const std::string& folder) {
  if (!find_idx_file(folder, kIdxTrainImages).empty() || !find_idx_file(folder, kIdxTestImages).empty())
    return Kind::IdxFolder;
  if (is_cifar_folder(folder)) return Kind::CifarFolder;
  return Kind::PngFolder;
}

Located locate(const std::string& spec) {
  if (spec == "synthetic") return {Kind::Synthetic, "", spec, {}};
  if (spec == "synthetic-rgb") return {Kind::SyntheticRgb, "", spec, {}};
  if (spec == "fashion-mnist")
    return locate_named_idx(spec, "DRMM_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist",
                            "install the Debian package dataset-fashion-mnist");
  if (spec == "mnist")
    return locate_named_idx(spec, "DRMM_MNIST_DIR", "/usr/share/datasets/mnist",
                            "download MNIST's four IDX files from http://yann.lecun.com/exdb/mnist/ into it");
  std::error_code error;
  if (!fs::exists(spec, error))
    throw FileError(spec, "no such file or folder, and not a dataset name (fashion-mnist, mnist, synthetic, "
                          "synthetic-rgb)");
  const Kind kind = is_folder(spec) ? detect_folder_kind(spec) : detect_file_kind(spec);
  return {kind, spec, spec, {}};
}

// The file or folder that holds `split`, or "" when the dataset has no such split.
std::string split_path(const Located& where, Split split) {
  const bool train = split == Split::Train;
  switch (where.kind) {
    case Kind::Synthetic:
    case Kind::SyntheticRgb: return where.name;  // both splits are rendered
    case Kind::CifarFolder: return where.path;
    case Kind::IdxFolder: return find_idx_file(where.path, train ? kIdxTrainImages : kIdxTestImages);
    case Kind::IdxFile: return train ? where.path : idx_test_path_for(where.path);
    case Kind::CifarFile: return train ? where.path : cifar_test_path_for(where.path);
    case Kind::PngFolder: return train ? where.path : "";
  }
  return "";
}

std::string missing_split_hint(Kind kind) {
  switch (kind) {
    case Kind::IdxFolder: return std::string("expected ") + kIdxTrainImages + "[.gz] or " + kIdxTestImages + "[.gz] in it";
    case Kind::IdxFile: return "only a train-* images file with a t10k-* sibling has a test split";
    case Kind::CifarFile: return "only a data_batch_N.bin with test_batch.bin beside it has a test split";
    default: return "a folder of class sub-folders is one split; give the test images as another folder";
  }
}

Dataset load_idx_images(const std::string& images_path, const std::vector<std::string>& class_names) {
  const std::string labels_path = idx_labels_path_for(images_path);
  if (labels_path.empty())
    throw FileError(images_path, "found no labels file beside it (named like it with 'labels' for 'images' and "
                                 "'idx1' for 'idx3', e.g. train-labels-idx1-ubyte.gz)");
  return load_idx(images_path, labels_path, class_names);
}

Dataset load_located(const Located& where, const std::string& path, Split split) {
  switch (where.kind) {
    case Kind::Synthetic: return load_synthetic(false, split);
    case Kind::SyntheticRgb: return load_synthetic(true, split);
    case Kind::IdxFolder:
    case Kind::IdxFile: return load_idx_images(path, where.class_names);
    case Kind::CifarFile: return load_cifar_batch(path);
    case Kind::CifarFolder: return load_cifar_folder(path, split);
    case Kind::PngFolder: return load_png_folder(path);
  }
  throw Error("unknown dataset kind");
}

}  // namespace

std::vector<size_t> Dataset::class_counts() const {
  std::vector<size_t> counts(class_names.size(), 0);
  for (const int label : labels)
    if (label >= 0 && size_t(label) < counts.size()) ++counts[size_t(label)];
  return counts;
}

std::vector<float> gather_images(const Dataset& data, std::span<const size_t> indices) {
  std::vector<float> pixels;
  pixels.reserve(indices.size() * data.image_size());
  for (size_t index : indices) {
    if (index >= data.size())
      throw Error("image " + std::to_string(index) + " is out of range: " + data.name + " has " +
                  std::to_string(data.size()));
    const auto image = data.image(index);
    pixels.insert(pixels.end(), image.begin(), image.end());
  }
  return pixels;
}

double Dataset::mean_pixel_energy() const {
  double sum = 0;
  for (const float value : pixels) sum += double(value) * double(value);
  return sum > 0 ? sum / double(pixels.size()) : 1.0;
}

Dataset load_dataset(const std::string& spec, Split split) {
  const Located where = locate(spec);
  const std::string path = split_path(where, split);
  if (path.empty())
    throw FileError(where.path, std::string("has no ") + (split == Split::Train ? "training" : "test") + " split (" +
                                    missing_split_hint(where.kind) + ")");
  Dataset data = load_located(where, path, split);
  data.name = where.name;
  return data;
}

bool has_split(const std::string& spec, Split split) {
  try {
    return !split_path(locate(spec), split).empty();
  } catch (const Error&) {
    return false;  // nothing loadable at all, so no split either
  }
}

}  // namespace drmm
