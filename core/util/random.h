#pragma once
// A small, portable, seeded random generator (SplitMix64, Steele et al. 2014). The standard
// library's distributions differ between implementations, so every seeded result in the
// engine (weight init, splits, batch order, synthetic data) goes through this instead and is
// the same on every machine.
#include <cmath>
#include <cstdint>
#include <vector>

namespace drmm {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n).
  uint64_t below(uint64_t n) {
    __extension__ using Wide = unsigned __int128;  // GCC/Clang builtin; -Wpedantic needs the marker
    return uint64_t(Wide(next_u64()) * n >> 64);
  }
  // Standard normal by Box–Muller (one of the pair; simplicity over speed).
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  void shuffle(std::vector<T>& items) {  // Fisher–Yates
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace drmm
