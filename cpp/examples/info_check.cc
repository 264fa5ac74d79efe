// The information module from C++, with no Python: a worked MF-HRL-IGM
// controller step (paper eqs. 7-9) and self-checks of the estimators.
//
//   info_check
//
// Checks the kernels' logarithm against std::log (max error in ulp), that the
// entropy and MI results do not depend on the thread count, a known MI value,
// then prints one round of eqs. 7-9 and "ok". Exits 1 on a failed check.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "estimators/entropy.h"
#include "estimators/fidelity_choice.h"
#include "estimators/mutual_information.h"

namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  std::printf("%-58s %s\n", what, ok ? "pass" : "FAIL");
  if (!ok) ++failures;
}

double UlpError(double got, double want) {
  if (got == want) return 0.0;
  const double ulp = std::nextafter(std::fabs(want), INFINITY) - std::fabs(want);
  return std::fabs(got - want) / ulp;
}

}  // namespace

int main() {
  namespace info = mfhrl::info;
  std::mt19937_64 rng(7);

  // 1. The vectorisable log: random positive doubles (all exponents, subnormals).
  double worst = 0.0;
  for (int i = 0; i < 2000000; ++i) {
    uint64_t bits = rng() & 0x7fefffffffffffffULL;
    double x;
    std::memcpy(&x, &bits, sizeof x);
    if (x > 0.0) worst = std::fmax(worst, UlpError(info::Log(x), std::log(x)));
  }
  std::printf("max |Log(x) - std::log(x)| = %.2f ulp\n", worst);
  Check(worst <= 1.0, "Log within 1 ulp of std::log");

  // 2. Entropy rows: same bits on 1 and 3 threads.
  const int64_t rows = 200000, m = 5;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> p(rows * m), h1(rows), h3(rows);
  for (double& v : p) v = uniform(rng);
  mfhrl::ThreadPool pool(3);
  info::EntropyRows(p.data(), rows, m, 1.0, h1.data(), nullptr);
  info::EntropyRows(p.data(), rows, m, 1.0, h3.data(), &pool);
  Check(std::memcmp(h1.data(), h3.data(), rows * sizeof(double)) == 0,
        "EntropyRows identical on 1 and 3 threads");
  const double uniform5[5] = {1, 1, 1, 1, 1};
  double h_uniform;
  info::EntropyRows(uniform5, 1, 5, 1.0, &h_uniform);
  Check(std::fabs(h_uniform - std::log(5.0)) < 1e-15, "H(uniform over 5) = log 5");

  // 3. MI: y = x gives H(X); same bits on 1 and 3 threads.
  const int64_t n = 1000000;
  std::vector<int64_t> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<int64_t>(rng() % 64);
    y[i] = (x[i] + static_cast<int64_t>(rng() % 8)) % 64;
  }
  info::MutualInformationResult r1, r3, same;
  const bool ok = info::MutualInformation(x.data(), y.data(), n, &r1, nullptr) &&
                  info::MutualInformation(x.data(), y.data(), n, &r3, &pool) &&
                  info::MutualInformation(x.data(), x.data(), n, &same, &pool);
  Check(ok && r1.plugin == r3.plugin && r1.miller_madow == r3.miller_madow,
        "MutualInformation identical on 1 and 3 threads");
  Check(std::fabs(same.plugin - same.entropy_x) < 1e-12, "I(X; X) = H(X)");
  std::printf("I(X; Y) = %.6f nats (plug-in), %.6f (Miller-Madow)\n", r1.plugin, r1.miller_madow);

  // 4. One controller round: IG per fidelity, the choice, the posterior update.
  const int64_t members = 5, fidelities = 4;
  std::vector<double> log_p(members, -std::log(5.0));
  const double costs[fidelities] = {1, 2, 4, 8};
  std::vector<double> batches(2 * members);  // two remembered batches at fidelity 0
  for (double& v : batches) v = 1.0 + 0.1 * uniform(rng);
  const info::LossHistory histories[fidelities] = {{batches.data(), 2}, {}, {}, {}};
  info::EtaRule rule;
  rule.automatic = true;
  double ig[fidelities];
  info::InformationGain(log_p.data(), members, histories, fidelities, rule, ig);
  const int k = info::ChooseFidelity(ig, costs, fidelities, 40.0, 1.0);
  std::printf("IG = [%.4f %.4f %.4f %.4f], chosen fidelity %d\n", ig[0], ig[1], ig[2], ig[3], k);
  Check(k == 1, "untried cheap level 1 chosen (IG = H(p) / cost 2)");
  const double losses[members] = {1.0, 1.2, 0.9, 3.0, 1.1};
  const double eta = info::PosteriorUpdate(log_p.data(), losses, members, rule, log_p.data());
  double total = 0.0;
  for (double lp : log_p) total += std::exp(lp);
  std::printf("eta = %.4f, posterior = [", eta);
  for (double lp : log_p) std::printf(" %.4f", std::exp(lp));
  std::printf(" ]\n");
  Check(std::fabs(total - 1.0) < 1e-15 && log_p[2] > log_p[0], "posterior normalised, best up");

  std::printf(failures == 0 ? "ok\n" : "%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
