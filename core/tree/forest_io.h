#pragma once
// The forest file (`drmm tree train --out forest.bin`), little-endian:
//
//   offset 0   8 bytes  magic "DRMMFRST"
//          8   u32      format version (1)
//         12   u32      reserved, 0
//         16   u64      body size in bytes (the file is exactly 32 + body size long)
//         24   u64      FNV-1a 64 checksum of the body
//         32   body:
//     u32 trees, features, classes, channels, height, width   (channels·height·width = features)
//     classes × (u32 length, UTF-8 name)
//     per tree: u32 nodes, supports, mutations;
//               f32 root template[features];
//               nodes × (i32 parent, i32 first child, u32 children, u32 depth,
//                        u32 support begin, u32 support size, u32 mutation begin, f32 bias);
//               u32 support[supports]; f32 mutations[mutations]; f32 class counts[nodes × classes]
//
// Loading checks the magic, the version, the length against the header, the checksum, every
// count against the bytes left, and the tree structure (child ranges, supports, mutations),
// so a malformed file gives a drmm::FileError naming the problem and never a crash.
#include <string>

#include "core/tree/forest.h"

namespace drmm::tree {

inline constexpr uint32_t kForestFormatVersion = 1;

void save_forest(const Forest& forest, const std::string& path);
Forest load_forest(const std::string& path);

}  // namespace drmm::tree
