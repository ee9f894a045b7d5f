#pragma once
// GL textures of one panel, each tagged with the snapshot version (or any content version) it
// was uploaded from. A panel asks for a texture every frame; the pixels are built and uploaded
// only when the version changes — on llvmpipe an upload of a strip of images costs more than
// drawing the whole panel, so unchanged snapshots must never be uploaded again (issue 6).
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <QOpenGLFunctions>

#include "ui/image_atlas.h"

namespace drmm::ui {

struct Texture {
  unsigned id = 0;  // GL texture name; 0 when there is nothing to show
  int width = 0, height = 0;
  void* imgui_id() const { return reinterpret_cast<void*>(uintptr_t(id)); }
};

class TextureCache {
 public:
  // `gl` must belong to the context the panel paints with; it is current whenever get() runs.
  void attach(QOpenGLFunctions* gl) { gl_ = gl; }

  // The texture stored under `key`. `build` runs (and its result is uploaded) only when `version`
  // differs from the version last uploaded under this key.
  const Texture& get(const std::string& key, uint64_t version, const std::function<const RgbaImage&()>& build);

  // Deletes every texture; call with the context current (before it is destroyed).
  void release();

  // How many uploads happened since the start: the frame-stats report uses it to show that
  // frames without a new snapshot upload nothing.
  static uint64_t total_uploads();

 private:
  struct Entry {
    Texture texture;
    uint64_t version = 0;
    bool built = false;
  };
  QOpenGLFunctions* gl_ = nullptr;
  std::map<std::string, Entry> entries_;
};

}  // namespace drmm::ui
