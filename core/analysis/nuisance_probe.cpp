#include "core/analysis/nuisance_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/util/error.h"
#include "core/util/random.h"
#include "core/util/thread_pool.h"

namespace drmm::analysis {
namespace {

// Bin i of n cells over `length` values: [floor(i·length/n), ceil((i+1)·length/n)).
std::pair<int, int> adaptive_bin(int i, int n, int length) {
  return {i * length / n, ((i + 1) * length + n - 1) / n};
}

// A feature whose spread on the fitted rows is below this fraction of the level's typical
// spread (the root mean square of the features' standard deviations) is left out: standardised by
// its own tiny deviation, a unit that is almost always off on the fitted rows became |z| ≈ 2000 on
// a held-out row where it fired, and one such row sent the held-out R² to −3.
constexpr double kDeadFeature = 1e-3;

// Per-feature mean and standard deviation over `rows`. A constant or nearly dead feature (see
// kDeadFeature) gets an infinite scale: its standardised value is 0 on every row, fitted or not.
void feature_statistics(const std::vector<float>& x, size_t d, const std::vector<size_t>& rows,
                        std::vector<double>& mean, std::vector<double>& scale) {
  mean.assign(d, 0);
  scale.assign(d, 0);
  for (size_t r : rows)
    for (size_t j = 0; j < d; ++j) mean[j] += x[r * d + j];
  for (double& m : mean) m /= double(rows.size());
  for (size_t r : rows)
    for (size_t j = 0; j < d; ++j) scale[j] += (x[r * d + j] - mean[j]) * (x[r * d + j] - mean[j]);
  double mean_variance = 0;
  for (double& s : scale) mean_variance += (s /= double(rows.size())) / double(d);
  const double floor = kDeadFeature * std::sqrt(mean_variance);
  for (double& s : scale) {
    s = std::sqrt(s);
    if (!(s > floor) || s == 0.0) s = std::numeric_limits<double>::infinity();
  }
}

// ZᵀZ and Zᵀ(Y − Ȳ) of the standardised rows: what every λ's solve shares.
struct NormalEquations {
  size_t d = 0, k = 0;
  std::vector<double> mean, scale, ybar;
  std::vector<double> gram;  // d × d
  std::vector<double> rhs;   // d × k
};

NormalEquations normal_equations(const std::vector<float>& x, size_t d, const std::vector<double>& y, size_t k,
                                 const std::vector<size_t>& rows, int threads) {
  NormalEquations ne;
  ne.d = d;
  ne.k = k;
  feature_statistics(x, d, rows, ne.mean, ne.scale);
  const size_t m = rows.size();
  std::vector<float> zt(d * m);  // transposed, so that every Gram entry is a contiguous dot product
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < d; ++j) zt[j * m + i] = float((x[rows[i] * d + j] - ne.mean[j]) / ne.scale[j]);
  ne.ybar.assign(k, 0);
  for (size_t r : rows)
    for (size_t t = 0; t < k; ++t) ne.ybar[t] += y[r * k + t] / double(m);
  ne.gram.assign(d * d, 0);
  ne.rhs.assign(d * k, 0);
  ThreadPool pool(threads);
  pool.parallel_for(d, [&](size_t begin, size_t end, int) {
    for (size_t a = begin; a < end; ++a) {
      const float* za = &zt[a * m];
      // ZᵀZ is symmetric: each entry above the diagonal is computed once and mirrored (the same
      // products in the same order either way, so the same bits), half the work of the probe.
      for (size_t b = a; b < d; ++b) {
        const float* zb = &zt[b * m];
        double sum = 0;
        for (size_t i = 0; i < m; ++i) sum += double(za[i]) * double(zb[i]);
        ne.gram[a * d + b] = ne.gram[b * d + a] = sum;
      }
      for (size_t t = 0; t < k; ++t) {
        double sum = 0;
        for (size_t i = 0; i < m; ++i) sum += double(za[i]) * (y[rows[i] * k + t] - ne.ybar[t]);
        ne.rhs[a * k + t] = sum;
      }
    }
  });
  return ne;
}

// Solves (ZᵀZ + λI) W = Zᵀ(Y − Ȳ) by Cholesky (the matrix is symmetric positive definite for λ > 0).
RidgeModel solve(const NormalEquations& ne, double lambda) {
  const size_t d = ne.d, k = ne.k;
  std::vector<double> l(ne.gram);
  for (size_t i = 0; i < d; ++i) l[i * d + i] += lambda;
  for (size_t j = 0; j < d; ++j) {
    double diag = l[j * d + j];
    for (size_t p = 0; p < j; ++p) diag -= l[j * d + p] * l[j * d + p];
    if (!(diag > 0)) throw Error("ridge: the regularised Gram matrix is not positive definite (λ = " + std::to_string(lambda) + ")");
    l[j * d + j] = std::sqrt(diag);
    for (size_t i = j + 1; i < d; ++i) {
      double v = l[i * d + j];
      for (size_t p = 0; p < j; ++p) v -= l[i * d + p] * l[j * d + p];
      l[i * d + j] = v / l[j * d + j];
    }
  }
  RidgeModel model{ne.mean, ne.scale, ne.rhs, ne.ybar, d, k};
  std::vector<double>& w = model.weights;
  for (size_t t = 0; t < k; ++t) {
    for (size_t i = 0; i < d; ++i) {  // L u = b
      double v = w[i * k + t];
      for (size_t p = 0; p < i; ++p) v -= l[i * d + p] * w[p * k + t];
      w[i * k + t] = v / l[i * d + i];
    }
    for (size_t i = d; i-- > 0;) {  // Lᵀ w = u
      double v = w[i * k + t];
      for (size_t p = i + 1; p < d; ++p) v -= l[p * d + i] * w[p * k + t];
      w[i * k + t] = v / l[i * d + i];
    }
  }
  return model;
}

// A target's columns in the stacked Y: one for a continuous target, one per class (one-hot) for a discrete one.
struct TargetColumns {
  size_t first = 0, count = 1;
};

int class_count(const ProbeTarget& target) {
  float top = 0;
  for (float v : target.values) top = std::max(top, v);
  return int(top) + 1;
}

double accuracy(const ProbeTarget& target, const TargetColumns& cols, const std::vector<std::vector<double>>& predictions,
                const std::vector<size_t>& rows) {
  size_t right = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& p = predictions[i];
    const size_t best = size_t(std::max_element(p.begin() + long(cols.first), p.begin() + long(cols.first + cols.count)) -
                               (p.begin() + long(cols.first)));
    right += int(best) == int(target.values[rows[i]]);
  }
  return double(right) / double(rows.size());
}

double score(const ProbeTarget& target, const TargetColumns& cols, const std::vector<std::vector<double>>& predictions,
             const std::vector<size_t>& rows) {
  if (target.discrete) return accuracy(target, cols, predictions, rows);
  std::vector<double> truth, predicted;
  for (size_t i = 0; i < rows.size(); ++i) {
    truth.push_back(target.values[rows[i]]);
    predicted.push_back(predictions[i][cols.first]);
  }
  return r_squared(truth, predicted);
}

std::vector<std::vector<double>> predict_rows(const RidgeModel& model, const ProbeLevel& level, const std::vector<size_t>& rows) {
  std::vector<std::vector<double>> out;
  for (size_t r : rows) out.push_back(model.predict(level.values.data() + r * level.cols()));
  return out;
}

// The held-out rate of the training part's most frequent class.
double majority_chance(const ProbeTarget& target, const ProbeSplit& split) {
  std::map<int, size_t> counts;
  for (const auto* part : {&split.fit, &split.validation})
    for (size_t r : *part) ++counts[int(target.values[r])];
  const int majority = std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  size_t hits = 0;
  for (size_t r : split.heldout) hits += int(target.values[r]) == majority;
  return double(hits) / double(split.heldout.size());
}

std::vector<size_t> joined(const std::vector<size_t>& a, const std::vector<size_t>& b) {
  std::vector<size_t> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

ProbeLevel pool_to_budget(const ProbeLevel& level, size_t max_features) {
  if (level.cols() <= max_features) return level;
  int grid = std::min(level.height, level.width);
  while (grid > 1 && size_t(level.channels) * size_t(grid) * size_t(grid) > max_features) --grid;
  const int gh = std::min(grid, level.height), gw = std::min(grid, level.width);
  ProbeLevel pooled{level.name, level.rows, level.channels, gh, gw, {}};
  pooled.values.resize(level.rows * pooled.cols());
  for (size_t r = 0; r < level.rows; ++r)
    for (int c = 0; c < level.channels; ++c) {
      const float* plane = level.values.data() + r * level.cols() + size_t(c) * size_t(level.height * level.width);
      for (int gy = 0; gy < gh; ++gy)
        for (int gx = 0; gx < gw; ++gx) {
          const auto [y0, y1] = adaptive_bin(gy, gh, level.height);
          const auto [x0, x1] = adaptive_bin(gx, gw, level.width);
          double sum = 0;
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) sum += plane[y * level.width + x];
          pooled.values[r * pooled.cols() + size_t((c * gh + gy) * gw + gx)] = float(sum / double((y1 - y0) * (x1 - x0)));
        }
    }
  return pooled;
}

std::vector<double> RidgeModel::predict(const float* row) const {
  std::vector<double> out(bias);
  for (size_t j = 0; j < features; ++j) {
    const double z = (row[j] - mean[j]) / scale[j];
    for (size_t t = 0; t < targets; ++t) out[t] += weights[j * targets + t] * z;
  }
  return out;
}

RidgeModel fit_ridge(const std::vector<float>& x, size_t d, const std::vector<double>& y, size_t k,
                     const std::vector<size_t>& rows, double lambda, int threads) {
  return solve(normal_equations(x, d, y, k, rows, threads), lambda);
}

double r_squared(const std::vector<double>& truth, const std::vector<double>& predicted) {
  double mean = 0;
  for (double t : truth) mean += t / double(truth.size());
  double residual = 0, total = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    residual += (truth[i] - predicted[i]) * (truth[i] - predicted[i]);
    total += (truth[i] - mean) * (truth[i] - mean);
  }
  return total > 0 ? 1.0 - residual / total : 0.0;
}

ProbeSplit make_probe_split(size_t rows, const ProbeOptions& options) {
  std::vector<size_t> order(rows);
  for (size_t i = 0; i < rows; ++i) order[i] = i;
  Random(options.seed).shuffle(order);
  const size_t heldout = size_t(std::lround(options.heldout * double(rows)));
  const size_t validation = size_t(std::lround(options.validation * double(rows - heldout)));
  if (heldout < 10 || validation < 10 || rows - heldout - validation < 10)
    throw Error("probe: " + std::to_string(rows) + " images are too few to split into fitting, validation and held-out parts "
                "(each needs at least 10)");
  ProbeSplit split;
  split.heldout.assign(order.begin(), order.begin() + long(heldout));
  split.validation.assign(order.begin() + long(heldout), order.begin() + long(heldout + validation));
  split.fit.assign(order.begin() + long(heldout + validation), order.end());
  return split;
}

std::vector<ProbeScore> probe_levels(const std::vector<ProbeLevel>& levels, const std::vector<ProbeTarget>& targets,
                                     const ProbeOptions& options) {
  if (levels.empty() || targets.empty()) return {};
  const size_t n = levels[0].rows;
  std::vector<TargetColumns> cols;
  size_t k = 0;
  for (const ProbeTarget& t : targets) {
    if (t.values.size() != n)
      throw Error("probe: target '" + t.name + "' has " + std::to_string(t.values.size()) + " values for " + std::to_string(n) + " images");
    cols.push_back({k, t.discrete ? size_t(class_count(t)) : 1});
    k += cols.back().count;
  }
  std::vector<double> y(n * k, 0.0);  // continuous values and one-hot classes, side by side
  for (size_t t = 0; t < targets.size(); ++t)
    for (size_t r = 0; r < n; ++r) {
      if (targets[t].discrete) y[r * k + cols[t].first + size_t(targets[t].values[r])] = 1;
      else y[r * k + cols[t].first] = targets[t].values[r];
    }
  const ProbeSplit split = make_probe_split(n, options);
  const std::vector<size_t> training = joined(split.fit, split.validation);
  std::vector<ProbeScore> scores;
  for (size_t li = 0; li < levels.size(); ++li) {
    if (levels[li].rows != n || levels[li].values.size() != n * levels[li].cols())
      throw Error("probe: level '" + levels[li].name + "' does not hold " + std::to_string(n) + " rows of its shape");
    const ProbeLevel level = pool_to_budget(levels[li], options.max_features);
    const size_t d = level.cols();
    // λ per target by validation score, then the probe refitted on the whole training part.
    const NormalEquations on_fit = normal_equations(level.values, d, y, k, split.fit, options.threads);
    std::vector<double> best_score(targets.size(), -1e300), best_lambda(targets.size(), options.lambdas.at(0));
    for (double lambda : options.lambdas) {
      const auto predictions = predict_rows(solve(on_fit, lambda), level, split.validation);
      for (size_t t = 0; t < targets.size(); ++t) {
        const double s = score(targets[t], cols[t], predictions, split.validation);
        if (s > best_score[t]) best_score[t] = s, best_lambda[t] = lambda;
      }
    }
    const NormalEquations on_training = normal_equations(level.values, d, y, k, training, options.threads);
    std::map<double, std::vector<std::vector<double>>> heldout_predictions;
    for (size_t t = 0; t < targets.size(); ++t) {
      auto& predictions = heldout_predictions[best_lambda[t]];
      if (predictions.empty()) predictions = predict_rows(solve(on_training, best_lambda[t]), level, split.heldout);
      scores.push_back({li, level.name, targets[t].name, targets[t].discrete, d, best_lambda[t],
                        score(targets[t], cols[t], predictions, split.heldout),
                        targets[t].discrete ? majority_chance(targets[t], split) : 0.0});
    }
  }
  return scores;
}

}  // namespace drmm::analysis
