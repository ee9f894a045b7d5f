#pragma once
// The picture of a probe table: one panel per model, side by side; in each, the held-out
// score (R² or accuracy, y from −0.2 to 1, grid lines every 0.2) against the level (x), one
// coloured line per target in the order of probe_target_colour. A dashed line marks a
// discrete target's chance rate.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/nuisance_probe.h"
#include "core/util/png_io.h"

namespace drmm::analysis {

// The colour of the t-th target (a fixed palette, repeating after ten).
std::array<uint8_t, 3> probe_target_colour(size_t t);

// `tables[m]` is model m's scores; targets are matched by name across models.
Image8 plot_probe_tables(const std::vector<std::vector<ProbeScore>>& tables);

}  // namespace drmm::analysis
