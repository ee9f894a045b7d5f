#pragma once
// The built-in synthetic dataset (DESIGN.md §3.7): ten simple shapes rendered anti-aliased,
// each image with KNOWN nuisance variables, so an analysis can ask which layer of a model
// still encodes position, scale, rotation or intensity (the linear-decoding experiment of
// the CVPR 2017 DRMM paper). Fully deterministic: the same options give bitwise the same
// data, and image i does not depend on how many images are made.
//
// Nuisances per image (Dataset::nuisance_names, in this order):
//   shift_x, shift_y  offset of the shape's centre from the image centre, pixels (x right, y down)
//   scale             size factor of the shape, 0.7 .. 1.05
//   rotation          degrees, counter-clockwise, -15 .. 15 (small enough that a square never
//                     passes for a diamond, nor a plus for a cross)
//   intensity         peak brightness of the shape, 0.5 .. 1
//   noise             standard deviation of the Gaussian pixel noise added, 0 .. 0.1
//   hue               (synthetic-rgb only) colour of the shape, 0 .. 1 around the HSV circle
#include <cstdint>
#include <string>
#include <vector>

#include "core/data/dataset.h"

namespace drmm {

struct SyntheticOptions {
  bool rgb = false;  // false: 1x28x28 gray ("synthetic"); true: 3x32x32 coloured ("synthetic-rgb")
  size_t count = 10000;
  uint64_t seed = 1;
};

// The class names, in label order: circle, square, triangle, cross, ring, bar, plus,
// diamond, L, T.
const std::vector<std::string>& synthetic_class_names();

// Renders `options.count` images; labels cycle through the classes (image i has class
// i mod 10), so every class has the same count up to one.
Dataset make_synthetic(const SyntheticOptions& options);

// The named datasets: "synthetic" / "synthetic-rgb", 10000 training images, or 2000 test
// images drawn with a different seed. `first` > 0: only the first that many of them (each image
// has its own generator, so they are the same images), for a caller that reads no more.
Dataset load_synthetic(bool rgb, Split split, size_t first = 0);

}  // namespace drmm
