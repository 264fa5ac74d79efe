#include "core/replay_ring.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mfhrl {
namespace {

__extension__ typedef unsigned __int128 Uint128;

template <typename T>
void CopyRow(const T* src, int64_t row, int width, T* dst, int64_t dst_row) {
  const T* from = src + row * width;
  T* to = dst + dst_row * width;
  for (int k = 0; k < width; ++k) to[k] = from[k];
}

}  // namespace

ReplayRing::ReplayRing(const ReplayConfig& config)
    : config_(config), capacity_(config.capacity), members_(config.num_members) {
  if (config.capacity < 1 || config.capacity > int64_t{0xFFFFFFFF}) {
    throw std::invalid_argument("capacity must be in [1, 2^32 - 1], got " +
                                std::to_string(config.capacity));
  }
  if (config.obs_dim < 1 || config.act_dim < 1) {
    throw std::invalid_argument("obs_dim and act_dim must be >= 1");
  }
  if (config.num_members < 1 || config.num_members > kMaxMembers) {
    throw std::invalid_argument("num_members must be in [1, 64], got " +
                                std::to_string(config.num_members));
  }
  if (!(config.mask_prob >= 0.0 && config.mask_prob <= 1.0)) {
    throw std::invalid_argument("mask_prob must be in [0, 1], got " +
                                std::to_string(config.mask_prob));
  }
  // p * 2^64, saturating at p = 1 (every bit set).
  mask_threshold_ = config.mask_prob >= 1.0
                        ? ~uint64_t{0}
                        : static_cast<uint64_t>(config.mask_prob * 18446744073709551616.0);
  if (config.num_threads < 1) throw std::invalid_argument("num_threads must be >= 1");
  threads_ = std::make_unique<ThreadPool>(config.num_threads);
  rng_.seed(config.seed);
  const size_t c = static_cast<size_t>(capacity_);
  obs_ = HugeBuffer<float>(c * config.obs_dim);
  next_obs_ = HugeBuffer<float>(c * config.obs_dim);
  action_ = HugeBuffer<float>(c * config.act_dim);
  reward_ = HugeBuffer<float>(c);
  terminated_ = HugeBuffer<float>(c);
  truncated_ = HugeBuffer<float>(c);
  fidelity_ = HugeBuffer<uint8_t>(c);
  mask_ = HugeBuffer<uint64_t>(c);
  lists_.resize(static_cast<size_t>(kNumFidelities) * (members_ + 1));
}

uint64_t ReplayRing::Below(uint64_t n) {
  // Lemire's multiply-shift: bias below n / 2^64, platform independent.
  return static_cast<uint64_t>((static_cast<Uint128>(rng_()) * n) >> 64);
}

uint64_t ReplayRing::DrawMask() {
  const uint64_t all = members_ == 64 ? ~uint64_t{0} : (uint64_t{1} << members_) - 1;
  if (config_.mask_prob == 0.5) return rng_() & all;  // every bit of a draw is a fair coin
  uint64_t mask = 0;
  for (int l = 0; l < members_; ++l) {
    if (mask_threshold_ == ~uint64_t{0} || rng_() < mask_threshold_) mask |= uint64_t{1} << l;
  }
  return mask;
}

void ReplayRing::Link(int64_t slot) {
  const int f = fidelity_[slot];
  for (uint64_t bits = mask_[slot]; bits; bits &= bits - 1) {
    List(f, __builtin_ctzll(bits)).push_back(static_cast<uint32_t>(slot));
  }
  List(f, members_).push_back(static_cast<uint32_t>(slot));
}

void ReplayRing::Unlink(int64_t slot) {
  // The overwritten slot is the oldest transition, so it heads its queues.
  const int f = fidelity_[slot];
  for (uint64_t bits = mask_[slot]; bits; bits &= bits - 1) List(f, __builtin_ctzll(bits)).pop_front();
  List(f, members_).pop_front();
}

void ReplayRing::Relink() {
  for (SlotQueue& q : lists_) q.clear();
  const int64_t n = size();
  for (int64_t i = 0; i < n; ++i) Link((oldest_slot() + i) % capacity_);
}

void ReplayRing::Add(const TransitionRows& rows) {
  const int od = config_.obs_dim, ad = config_.act_dim;
  const uint64_t member_bits = members_ == 64 ? ~uint64_t{0} : (uint64_t{1} << members_) - 1;
  for (int64_t i = 0; i < rows.n; ++i) {
    const int64_t slot = static_cast<int64_t>(total_ % static_cast<uint64_t>(capacity_));
    if (total_ >= static_cast<uint64_t>(capacity_)) Unlink(slot);
    CopyRow(rows.obs, i, od, obs_.data(), slot);
    CopyRow(rows.next_obs, i, od, next_obs_.data(), slot);
    CopyRow(rows.action, i, ad, action_.data(), slot);
    reward_[slot] = rows.reward[i];
    terminated_[slot] = rows.terminated[i];
    truncated_[slot] = rows.truncated[i];
    fidelity_[slot] = rows.fidelity[i];
    mask_[slot] = rows.mask ? rows.mask[i] & member_bits : DrawMask();
    Link(slot);
    ++total_;
  }
}

int64_t ReplayRing::MemberCount(int member, const std::vector<bool>* fidelities) const {
  int64_t count = 0;
  for (int f = 0; f < kNumFidelities; ++f) {
    if (!fidelities || (*fidelities)[f]) count += static_cast<int64_t>(List(f, member).size());
  }
  return count;
}

void ReplayRing::DrawFromLists(int k, const std::vector<bool>* fidelities, int64_t n,
                               int64_t* slots) {
  // Fidelities with slots in list k, and their cumulative counts.
  int present[kNumFidelities];
  uint64_t cumulative[kNumFidelities];
  int num_present = 0;
  uint64_t total = 0;
  for (int f = 0; f < kNumFidelities; ++f) {
    const size_t count = List(f, k).size();
    if (count == 0 || (fidelities && !(*fidelities)[f])) continue;
    total += count;
    present[num_present] = f;
    cumulative[num_present++] = total;
  }
  if (total == 0) {
    throw std::out_of_range(k == members_ ? "no stored transition of the requested fidelities"
                                          : "member " + std::to_string(k) +
                                                " has no stored transition to sample");
  }
  for (int64_t j = 0; j < n; ++j) {
    uint64_t u = Below(total);
    int p = 0;
    while (u >= cumulative[p]) ++p;
    if (p > 0) u -= cumulative[p - 1];
    slots[j] = List(present[p], k)[u];
  }
}

void ReplayRing::Prefetch(int64_t s) const {
  const int od = config_.obs_dim, ad = config_.act_dim;
  for (int b = 0; b < od; b += 16) {
    __builtin_prefetch(obs_.data() + s * od + b);
    __builtin_prefetch(next_obs_.data() + s * od + b);
  }
  __builtin_prefetch(obs_.data() + s * od + od - 1);
  __builtin_prefetch(next_obs_.data() + s * od + od - 1);
  __builtin_prefetch(action_.data() + s * ad);
  __builtin_prefetch(action_.data() + s * ad + ad - 1);
  __builtin_prefetch(reward_.data() + s);
  __builtin_prefetch(terminated_.data() + s);
  __builtin_prefetch(truncated_.data() + s);
  __builtin_prefetch(fidelity_.data() + s);
  __builtin_prefetch(mask_.data() + s);
}

void ReplayRing::Gather(const int64_t* slots, int64_t n, const SampleRows& out,
                        int64_t row0) const {
  // Random rows of a large ring miss every cache: keep kAhead rows of loads
  // in flight by prefetching ahead of the copies.
  constexpr int64_t kAhead = 4;
  const int od = config_.obs_dim, ad = config_.act_dim;
  for (int64_t j = 0; j < std::min(n, kAhead); ++j) Prefetch(slots[j]);
  for (int64_t j = 0; j < n; ++j) {
    if (j + kAhead < n) Prefetch(slots[j + kAhead]);
    const int64_t s = slots[j], r = row0 + j;
    CopyRow(obs_.data(), s, od, out.obs, r);
    CopyRow(next_obs_.data(), s, od, out.next_obs, r);
    CopyRow(action_.data(), s, ad, out.action, r);
    out.reward[r] = reward_[s];
    out.terminated[r] = terminated_[s];
    out.truncated[r] = truncated_[s];
    out.fidelity[r] = fidelity_[s];
    if (out.mask) {
      const uint64_t mask = mask_[s];
      bool* row = out.mask + r * members_;
      for (int l = 0; l < members_; ++l) row[l] = (mask >> l) & 1;
    }
    if (out.index) out.index[r] = s;
  }
}

void ReplayRing::Sample(int64_t n, const std::vector<bool>* fidelities, const SampleRows& out) {
  scratch_.resize(n);
  if (fidelities) {
    DrawFromLists(members_, fidelities, n, scratch_.data());
  } else {
    const int64_t stored = size();
    if (stored == 0) throw std::out_of_range("cannot sample from an empty ReplayRing");
    for (int64_t j = 0; j < n; ++j) scratch_[j] = static_cast<int64_t>(Below(stored));
  }
  ParallelGather(scratch_.data(), n, out);
}

void ReplayRing::SampleMembers(int64_t n, const std::vector<bool>* fidelities,
                               const SampleRows& out) {
  scratch_.resize(n * members_);
  for (int l = 0; l < members_; ++l) DrawFromLists(l, fidelities, n, scratch_.data() + l * n);
  ParallelGather(scratch_.data(), n * members_, out);
}

void ReplayRing::Read(int64_t start, int64_t n, const SampleRows& out) const {
  if (start < 0 || n < 0 || start > size() - n) {
    throw std::out_of_range("slots [" + std::to_string(start) + ", " + std::to_string(start + n) +
                            ") are not all stored (size " + std::to_string(size()) + ")");
  }
  std::vector<int64_t> slots(n);
  for (int64_t j = 0; j < n; ++j) slots[j] = start + j;
  Gather(slots.data(), n, out, 0);
}

void ReplayRing::ParallelGather(const int64_t* slots, int64_t n, const SampleRows& out) {
  constexpr int64_t kMinRowsPerThread = 128;  // below this a wake-up costs more than it saves
  if (threads_->num_threads() == 1 || n < 2 * kMinRowsPerThread) {
    Gather(slots, n, out, 0);
    return;
  }
  threads_->ParallelFor(n, [&](int64_t begin, int64_t end) {
    Gather(slots + begin, end - begin, out, begin);
  });
}

}  // namespace mfhrl
