#pragma once
// What a shallow RMM run writes and shows (`drmm rmm train`, the studio's Shallow RMM panel): the
// history as CSV, every canonical template μ_c as one picture, and sample images beside the
// template μ_cg they were assigned to.
#include <span>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/rmm/shallow_rmm.h"
#include "core/util/png_io.h"

namespace drmm::rmm {

// One row per iteration: iteration,log_likelihood,changed,train_accuracy,test_accuracy,seconds
// (test_accuracy empty without test images).
std::string history_csv(std::span<const Iteration> history);

// The canonical templates μ_c in a row per `columns` (0: near-square), each pixel `scale`×`scale`.
Image8 templates_picture(const ShallowRmm& model, int scale, int columns = 0);

// Images 0 … assignments.size()−1 of `data`, each followed by the template T_g μ_c it was assigned
// to, `pairs_per_row` pairs a row.
Image8 assignments_picture(const ShallowRmm& model, const Dataset& data, std::span<const Assignment> assignments, int scale,
                           int pairs_per_row);

}  // namespace drmm::rmm
