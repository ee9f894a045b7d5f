#pragma once
// 8-bit pixels ↔ the [0, 1] floats a Dataset holds; every loader and the preview use these so
// a byte survives the round trip unchanged.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace drmm {

inline float unit_from_byte(uint8_t value) { return float(value) * (1.0f / 255.0f); }

inline uint8_t byte_from_unit(float value) {
  return uint8_t(std::lround(std::clamp(value, 0.0f, 1.0f) * 255.0f));
}

inline void append_units(std::span<const uint8_t> bytes, std::vector<float>& out) {
  out.reserve(out.size() + bytes.size());
  for (const uint8_t b : bytes) out.push_back(unit_from_byte(b));
}

}  // namespace drmm
