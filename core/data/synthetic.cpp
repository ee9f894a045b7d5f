#include "core/data/synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/util/random.h"

namespace drmm {
namespace {

constexpr float kPi = 3.14159265358979f;
constexpr size_t kTrainCount = 10000, kTestCount = 2000;
constexpr uint64_t kTrainSeed = 0x5EED0001, kTestSeed = 0x5EED0002;
// The shape's unit length as a fraction of the image side, before the scale nuisance; with
// the largest shift, scale and rotation the shapes still fit inside the image.
constexpr float kShapeRadius = 0.28f;
constexpr float kMaxShift = 0.1f;  // of the image side

struct Vec2 {
  float x, y;
};

float length(Vec2 p) { return std::sqrt(p.x * p.x + p.y * p.y); }

// Signed distance functions (negative inside), in the shape's own unit, from Inigo Quilez,
// "2D distance functions", https://iquilezles.org/articles/distfunctions2d/.
float box(Vec2 p, Vec2 centre, Vec2 half) {
  const float qx = std::abs(p.x - centre.x) - half.x, qy = std::abs(p.y - centre.y) - half.y;
  return length({std::max(qx, 0.0f), std::max(qy, 0.0f)}) + std::min(std::max(qx, qy), 0.0f);
}

float equilateral_triangle(Vec2 p, float r) {  // pointing up, centroid at the origin
  const float k = std::sqrt(3.0f);
  p.x = std::abs(p.x) - r;
  p.y = p.y + r / k;
  if (p.x + k * p.y > 0.0f) p = {(p.x - k * p.y) / 2.0f, (-k * p.x - p.y) / 2.0f};
  p.x -= std::clamp(p.x, -2.0f * r, 0.0f);
  return -length(p) * (p.y < 0.0f ? -1.0f : 1.0f);
}

// Distance to the rhombus's edge lines |x|/a + |y|/b = 1; exact along the edges, which is
// all anti-aliasing needs.
float rhombus(Vec2 p, float a, float b) {
  return (std::abs(p.x) / a + std::abs(p.y) / b - 1.0f) / std::sqrt(1.0f / (a * a) + 1.0f / (b * b));
}

Vec2 rotated(Vec2 p, float radians) {
  const float c = std::cos(radians), s = std::sin(radians);
  return {c * p.x - s * p.y, s * p.x + c * p.y};
}

// The ten shapes, in the order of synthetic_class_names(); p in shape units, y up.
float shape_distance(int shape, Vec2 p) {
  switch (shape) {
    case 0: return length(p) - 1.0f;                                            // circle
    case 1: return box(p, {0, 0}, {0.85f, 0.85f});                              // square
    case 2: return equilateral_triangle(p, 0.95f);                              // triangle
    case 3: return std::min(box(rotated(p, kPi / 4), {0, 0}, {1.05f, 0.2f}),   // cross (X)
                            box(rotated(p, -kPi / 4), {0, 0}, {1.05f, 0.2f}));
    case 4: return std::abs(length(p) - 0.75f) - 0.22f;                         // ring
    case 5: return box(p, {0, 0}, {1.0f, 0.28f});                               // bar
    case 6: return std::min(box(p, {0, 0}, {1.0f, 0.22f}), box(p, {0, 0}, {0.22f, 1.0f}));  // plus
    case 7: return rhombus(p, 0.65f, 1.05f);                                    // diamond
    case 8: return std::min(box(p, {-0.58f, 0}, {0.22f, 0.9f}), box(p, {0, -0.68f}, {0.8f, 0.22f}));  // L
    default: return std::min(box(p, {0, 0.68f}, {0.8f, 0.22f}), box(p, {0, 0}, {0.22f, 0.9f}));      // T
  }
}

struct Nuisances {
  float shift_x, shift_y, scale, rotation_degrees, intensity, noise, hue;
};

Nuisances draw_nuisances(Random& rng, int side) {
  const float max_shift = kMaxShift * float(side);
  Nuisances n{};
  n.shift_x = float(rng.uniform(-max_shift, max_shift));
  n.shift_y = float(rng.uniform(-max_shift, max_shift));
  n.scale = float(rng.uniform(0.7, 1.05));
  n.rotation_degrees = float(rng.uniform(-15.0, 15.0));
  n.intensity = float(rng.uniform(0.5, 1.0));
  n.noise = float(rng.uniform(0.0, 0.1));
  n.hue = float(rng.uniform());
  return n;
}

// Fully saturated, full-value HSV colour: the shape's colour in synthetic-rgb.
std::array<float, 3> hue_to_rgb(float hue) {
  std::array<float, 3> rgb{};
  for (int c = 0; c < 3; ++c) {
    const float k = std::fmod(5.0f - 2.0f * float(c) + hue * 6.0f, 6.0f);  // R: 5, G: 3, B: 1
    rgb[size_t(c)] = 1.0f - std::clamp(std::min(k, 4.0f - k), 0.0f, 1.0f);
  }
  return rgb;
}

// Coverage of each pixel by the shape, 0..1: the signed distance in pixels, clamped around
// the pixel centre (a one-pixel-wide linear ramp across the edge is the anti-aliasing).
std::vector<float> shape_coverage(int shape, const Nuisances& n, int side) {
  const float unit = kShapeRadius * float(side) * n.scale;  // pixels per shape unit
  const float centre_x = 0.5f * float(side) + n.shift_x, centre_y = 0.5f * float(side) + n.shift_y;
  const float undo_rotation = -n.rotation_degrees * kPi / 180.0f;
  std::vector<float> coverage(size_t(side) * size_t(side));
  for (int row = 0; row < side; ++row) {
    for (int col = 0; col < side; ++col) {
      const Vec2 offset{(float(col) + 0.5f - centre_x) / unit, (centre_y - float(row) - 0.5f) / unit};
      const float distance_pixels = shape_distance(shape, rotated(offset, undo_rotation)) * unit;
      coverage[size_t(row) * size_t(side) + size_t(col)] = std::clamp(0.5f - distance_pixels, 0.0f, 1.0f);
    }
  }
  return coverage;
}

void render_image(int shape, const Nuisances& n, int channels, int side, Random& rng, float* out) {
  const std::vector<float> coverage = shape_coverage(shape, n, side);
  const std::array<float, 3> colour = channels == 1 ? std::array<float, 3>{1, 1, 1} : hue_to_rgb(n.hue);
  for (int c = 0; c < channels; ++c)
    for (size_t i = 0; i < coverage.size(); ++i)
      *out++ = std::clamp(n.intensity * colour[size_t(c)] * coverage[i] + n.noise * float(rng.normal()), 0.0f, 1.0f);
}

void record_nuisances(const Nuisances& n, bool rgb, std::vector<float>& out) {
  out.insert(out.end(), {n.shift_x, n.shift_y, n.scale, n.rotation_degrees, n.intensity, n.noise});
  if (rgb) out.push_back(n.hue);
}

// Image `index` gets its own generator, so it does not depend on how many images are made.
Random image_generator(uint64_t seed, size_t index) {
  Random mix(seed ^ (0xD1B54A32D192ED03ull * (uint64_t(index) + 1)));
  return Random(mix.next_u64());
}

}  // namespace

const std::vector<std::string>& synthetic_class_names() {
  static const std::vector<std::string> names = {"circle", "square", "triangle", "cross", "ring",
                                                 "bar",    "plus",   "diamond",  "L",     "T"};
  return names;
}

Dataset make_synthetic(const SyntheticOptions& options) {
  Dataset data;
  data.name = options.rgb ? "synthetic-rgb" : "synthetic";
  data.format = "synthetic (built-in renderer)";
  data.channels = options.rgb ? 3 : 1;
  data.height = data.width = options.rgb ? 32 : 28;
  data.class_names = synthetic_class_names();
  data.nuisance_names = {"shift_x", "shift_y", "scale", "rotation", "intensity", "noise"};
  if (options.rgb) data.nuisance_names.push_back("hue");
  data.pixels.resize(options.count * data.image_size());
  for (size_t i = 0; i < options.count; ++i) {
    Random rng = image_generator(options.seed, i);
    const int shape = int(i % synthetic_class_names().size());
    const Nuisances n = draw_nuisances(rng, data.width);
    render_image(shape, n, data.channels, data.width, rng, data.pixels.data() + i * data.image_size());
    data.labels.push_back(shape);
    record_nuisances(n, options.rgb, data.nuisances);
  }
  return data;
}

Dataset load_synthetic(bool rgb, Split split, size_t first) {
  const bool train = split == Split::Train;
  const size_t count = train ? kTrainCount : kTestCount;
  return make_synthetic({.rgb = rgb, .count = first > 0 ? std::min(first, count) : count,
                         .seed = train ? kTrainSeed : kTestSeed});
}

}  // namespace drmm
