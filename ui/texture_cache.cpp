#include "ui/texture_cache.h"

#include <atomic>

namespace drmm::ui {
namespace {
std::atomic<uint64_t> uploads{0};
}

uint64_t TextureCache::total_uploads() { return uploads.load(); }

const Texture& TextureCache::get(const std::string& key, uint64_t version,
                                 const std::function<const RgbaImage&()>& build) {
  Entry& entry = entries_[key];
  if (entry.built && entry.version == version) return entry.texture;
  const RgbaImage& image = build();
  entry.version = version;
  entry.built = true;
  if (image.width <= 0 || image.height <= 0) {
    entry.texture.width = entry.texture.height = 0;  // keep the GL name for a later upload
    return entry.texture;
  }
  if (entry.texture.id == 0) {
    GLuint id = 0;
    gl_->glGenTextures(1, &id);
    entry.texture.id = id;
  }
  gl_->glBindTexture(GL_TEXTURE_2D, entry.texture.id);
  // Nearest: a 28×28 digit enlarged eight times should show its pixels, not a blur.
  gl_->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  gl_->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  gl_->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  gl_->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  gl_->glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  gl_->glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, image.width, image.height, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                    image.pixels.data());
  gl_->glBindTexture(GL_TEXTURE_2D, 0);
  entry.texture.width = image.width;
  entry.texture.height = image.height;
  uploads.fetch_add(1);
  return entry.texture;
}

void TextureCache::release() {
  for (auto& [key, entry] : entries_) {
    if (entry.texture.id != 0 && gl_ != nullptr) {
      GLuint id = entry.texture.id;
      gl_->glDeleteTextures(1, &id);
    }
  }
  entries_.clear();
}

}  // namespace drmm::ui
