#include "estimators/fidelity_choice.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace mfhrl {
namespace info {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMaxFinite = std::numeric_limits<double>::max();

// Population standard deviation, computed on x / max|x| and scaled back so
// that neither the sum nor the squares can overflow or underflow (losses of
// order 1e-200 or 1e300 get the same relative spread as losses of order 1).
double StdDev(const double* x, int64_t n) {
  double scale = 0.0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(x[i]));
  if (scale == 0.0) return 0.0;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] / scale;
  const double mean = sum / static_cast<double>(n);
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i] / scale - mean;
    ss += d * d;
  }
  return scale * std::sqrt(ss / static_cast<double>(n));
}

}  // namespace

double Median(const double* x, int64_t n) {
  std::vector<double> v(x, x + n);
  const int64_t half = n / 2;
  std::nth_element(v.begin(), v.begin() + half, v.end());
  const double hi = v[half];
  if (n % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + half);
  const double mid = (lo + hi) / 2.0;  // as numpy.median
  return std::isfinite(mid) ? mid : lo / 2.0 + hi / 2.0;
}

double MedianAbsoluteDeviation(const double* x, int64_t n) {
  const double med = Median(x, n);
  std::vector<double> dev(n);
  for (int64_t i = 0; i < n; ++i) dev[i] = std::fabs(x[i] - med);
  return Median(dev.data(), n);
}

double ResolveEta(const EtaRule& rule, const double* losses, int64_t num_members) {
  if (!rule.automatic) return rule.eta;
  // All equal (tested exactly: a computed std could be a rounding residue).
  const auto [lo, hi] = std::minmax_element(losses, losses + num_members);
  if (*lo == *hi) return rule.eta0;
  double spread = MedianAbsoluteDeviation(losses, num_members);
  if (!(spread > 0.0)) spread = StdDev(losses, num_members);
  const double eta = spread > 0.0 ? rule.eta0 / spread : rule.eta0;
  return std::min(eta, kMaxFinite);
}

void NormaliseLog(const double* log_w, int64_t n, double* out) {
  double m = -kInf;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, log_w[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(log_w[i] - m);  // exp(-inf) = 0
  const double log_z = m + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = log_w[i] - log_z;
}

double EntropyFromLog(const double* log_p, int64_t n) {
  std::vector<double> lp(n);
  NormaliseLog(log_p, n, lp.data());
  double h = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (lp[i] > -kInf) h -= std::exp(lp[i]) * lp[i];
  }
  return h;
}

double PosteriorUpdate(const double* log_p, const double* losses, int64_t num_members,
                       const EtaRule& rule, double* out) {
  const double eta = ResolveEta(rule, losses, num_members);
  double ref = kInf;
  for (int64_t l = 0; l < num_members; ++l) {
    if (log_p[l] > -kInf) ref = std::min(ref, losses[l]);
  }
  std::vector<double> w(num_members);
  for (int64_t l = 0; l < num_members; ++l) {
    const double excess = losses[l] - ref;  // >= 0 for members of positive mass
    const double step = (excess > 0.0 && eta > 0.0) ? eta * excess : 0.0;  // may be +inf
    w[l] = log_p[l] > -kInf ? log_p[l] - step : -kInf;
  }
  NormaliseLog(w.data(), num_members, out);
  return eta;
}

void InformationGain(const double* log_p, int64_t num_members, const LossHistory* histories,
                     int64_t num_fidelities, const EtaRule& rule, double* ig) {
  const double h0 = EntropyFromLog(log_p, num_members);
  std::vector<double> updated(num_members);
  for (int64_t k = 0; k < num_fidelities; ++k) {
    const LossHistory& hist = histories[k];
    if (hist.batches <= 0) {
      ig[k] = h0;
      continue;
    }
    double sum_h = 0.0;
    for (int64_t b = 0; b < hist.batches; ++b) {
      PosteriorUpdate(log_p, hist.losses + b * num_members, num_members, rule, updated.data());
      sum_h += EntropyFromLog(updated.data(), num_members);
    }
    ig[k] = h0 - sum_h / static_cast<double>(hist.batches);
  }
}

int ChooseFidelity(const double* ig, const double* costs, int64_t num_fidelities,
                   double remaining_budget, double c) {
  int best = -1;
  double best_ratio = 0.0;
  for (int64_t k = 0; k < num_fidelities; ++k) {
    if (!(costs[k] <= remaining_budget)) continue;
    const double ratio = ig[k] / costs[k];
    if (best < 0 || ratio > best_ratio) {
      best = static_cast<int>(k);
      best_ratio = ratio;
    }
  }
  if (best < 0) return -1;  // nothing affordable: the run ends
  // remaining_budget >= costs[best] > 0 here, so the threshold is finite.
  const double threshold = c / std::sqrt(remaining_budget);
  if (best_ratio >= threshold) return best;
  const int64_t top = num_fidelities - 1;
  if (costs[top] <= remaining_budget) return static_cast<int>(top);
  return best;
}

}  // namespace info
}  // namespace mfhrl
