#pragma once
// Small helpers for binary headers (IDX stores its integers big-endian).
#include <cstdint>
#include <cstdio>
#include <string>

namespace drmm {

inline uint32_t big_endian_u32(const uint8_t* bytes) {
  return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3];
}

// "0x00000803": how a magic number is written in format specifications and error messages.
inline std::string hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08X", value);
  return text;
}

}  // namespace drmm
