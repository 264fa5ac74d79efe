// The MF-HRL-IGM fidelity controller's arithmetic (paper eqs. 7-9, docs/algorithm.md):
// the Gibbs posterior update over the L ensemble members (eq. 7), the
// information gain IG_k of each fidelity and the fidelity choice by
// information gain per unit cost with the budget threshold (eqs. 8-9).
// Usable without Python; inputs are trusted (the bindings validate them).
// Sizes are tiny (L ~ 5 members, K ~ 4 fidelities, M ~ 8 batches), so
// everything runs on the calling thread, in a fixed order.
#ifndef MFHRL_ESTIMATORS_FIDELITY_CHOICE_H_
#define MFHRL_ESTIMATORS_FIDELITY_CHOICE_H_

#include <cstdint>

namespace mfhrl {
namespace info {

// How the learning rate eta of eq. 7 is chosen.
//   fixed (automatic = false): eta = `eta` (finite, >= 0);
//   automatic: eta = eta0 / MAD(losses), MAD = median_l |L_l - median(L)|
//     (the raw median absolute deviation over all L members, no 1.4826
//     factor; the median of an even count is the mean of the two middle
//     values). Special cases: if all losses are equal (eq. 7 is then a no-op
//     whatever eta), eta = eta0; else if MAD == 0 (more than half of the
//     losses equal the median), eta = eta0 / std(losses) (population std,
//     computed on losses / max|loss| and scaled back: no underflow). A result
//     above the largest finite double is clamped to it.
// So one batch moves the log posterior by O(eta0): the spread of eta * L_l
// over the members is about eta0.
struct EtaRule {
  bool automatic = false;
  double eta = 1.0;   // used when !automatic; finite, >= 0
  double eta0 = 1.0;  // used when automatic; finite, > 0
};

// The eta `rule` gives for these losses (num_members >= 1, finite losses).
double ResolveEta(const EtaRule& rule, const double* losses, int64_t num_members);

// Median (mean of the two middle values for an even count) and the median
// absolute deviation about it. n >= 1.
double Median(const double* x, int64_t n);
double MedianAbsoluteDeviation(const double* x, int64_t n);

// out = log_w - logsumexp(log_w): normalised log probabilities. Entries of
// log_w are finite or -inf (probability 0), at least one finite. out may alias
// log_w.
void NormaliseLog(const double* log_w, int64_t n, double* out);

// H(p) = -sum_l p_l log p_l in nats, p = exp(log_p) normalised first (log_p
// need not be normalised); members with p_l = 0 contribute 0.
double EntropyFromLog(const double* log_p, int64_t n);

// Eq. 7: log p_new(l) = log p(l) - eta L_l(B) - log Z, with eta from `rule`.
// Because eq. 7 is unchanged by adding a constant to every loss, the losses
// are first shifted by the smallest loss among members of positive mass; that
// member then keeps a finite log weight, so the update cannot overflow or
// produce NaN even for a huge eta (0 * inf is never formed), and log Z is a
// stable log-sum-exp. log_p: finite or -inf entries (at least one finite),
// need not be normalised; members with -inf stay -inf. losses: finite.
// Writes the normalised log posterior to out (may alias log_p) and returns the
// eta used.
double PosteriorUpdate(const double* log_p, const double* losses, int64_t num_members,
                       const EtaRule& rule, double* out);

// The remembered batches of one fidelity, re-scored with the current members:
// a row-major (batches, num_members) array, row b holding L_l(b) for every l.
struct LossHistory {
  const double* losses = nullptr;
  int64_t batches = 0;
};

// The IG_k of eq. 8 (docs/algorithm.md): for each fidelity k < num_fidelities,
//   IG_k = H(p) - (1 / M_k) sum_b H(p (x) b),
// where p (x) b = PosteriorUpdate(log_p, losses of b, rule) (auto eta is
// resolved per batch from that batch's losses) and the mean runs over the
// M_k = histories[k].batches batches in order. A fidelity with no batch (never
// tried) gets IG_k = H(p), an upper bound. IG_k is not clipped: it is negative
// when the batches would on average flatten the posterior.
void InformationGain(const double* log_p, int64_t num_members, const LossHistory* histories,
                     int64_t num_fidelities, const EtaRule& rule, double* ig);

// Eqs. 8-9. Level k is affordable when costs[k] <= remaining_budget (exact
// comparison). Returns -1 when no level is affordable (the run ends). Else
//   k* = argmax over affordable k of ig[k] / costs[k]   (eq. 8; ties -> lowest k)
// and returns k* if ig[k*] / costs[k*] >= c / sqrt(remaining_budget), else the
// highest fidelity K - 1 if it is affordable, else k* (eq. 9; the paper's
// "k_r = K" assumes the top level is affordable).
// Preconditions: num_fidelities >= 1, ig finite, costs finite and > 0,
// remaining_budget finite, c finite and >= 0.
int ChooseFidelity(const double* ig, const double* costs, int64_t num_fidelities,
                   double remaining_budget, double c);

}  // namespace info
}  // namespace mfhrl

#endif  // MFHRL_ESTIMATORS_FIDELITY_CHOICE_H_
