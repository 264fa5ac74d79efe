// ReplayRing: a fixed-capacity FIFO replay of transitions, struct-of-arrays
// float32 storage, with a fidelity id and an L-bit bootstrap mask per
// transition (the offline phase's masks m_l). Usable without Python.
//
// Sampling is uniform over the stored transitions, or, per member l, uniform
// over those whose mask bit l is set, optionally restricted to a set of
// fidelity ids. Each (fidelity, member) pair keeps the FIFO queue of its
// slots (see slot_queue.h), so adds cost O(L) and every draw O(K) for K
// fidelities present: there is no rejection loop. Draws use the ring's own seeded
// generator, so a ring's samples are a function of its seed and history.
#ifndef MFHRL_CORE_REPLAY_RING_H_
#define MFHRL_CORE_REPLAY_RING_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/huge_buffer.h"
#include "core/slot_queue.h"
#include "core/thread_pool.h"
#include "core/transition_sink.h"

namespace mfhrl {

struct ReplayConfig {
  int64_t capacity = 1000000;
  int obs_dim = 17;
  int act_dim = 6;
  int num_members = 1;     // L, at most 64
  double mask_prob = 0.5;  // p of the i.i.d. Bernoulli(p) mask bits
  uint64_t seed = 0;
  int num_threads = 1;     // threads copying large samples (results do not depend on it)
};

// Caller-owned destination of a sample of n rows; mask rows are num_members
// bools. index may be null.
struct SampleRows {
  float* obs = nullptr;
  float* action = nullptr;
  float* reward = nullptr;
  float* next_obs = nullptr;
  float* terminated = nullptr;
  float* truncated = nullptr;
  uint8_t* fidelity = nullptr;
  bool* mask = nullptr;
  int64_t* index = nullptr;
};

class ReplayRing {
 public:
  static constexpr int kMaxMembers = 64;
  static constexpr int kNumFidelities = 256;
  static constexpr uint32_t kFileVersion = 1;

  explicit ReplayRing(const ReplayConfig& config);  // throws std::invalid_argument
  ReplayRing(ReplayRing&&) = default;

  const ReplayConfig& config() const { return config_; }
  int64_t size() const {
    return total_ < static_cast<uint64_t>(capacity_) ? static_cast<int64_t>(total_) : capacity_;
  }
  uint64_t total_added() const { return total_; }
  // Restarts the generator of masks and draws (the stored rows stay), so what follows
  // depends only on the contents and this seed.
  void Reseed(uint64_t seed) { rng_.seed(seed); }
  // Slot of the oldest stored transition.
  int64_t oldest_slot() const {
    return size() < capacity_ ? 0 : static_cast<int64_t>(total_ % static_cast<uint64_t>(capacity_));
  }
  // Stored transitions whose mask bit `member` is set, among fidelities
  // (null: all).
  int64_t MemberCount(int member, const std::vector<bool>* fidelities) const;

  void Add(const TransitionRows& rows);
  // Uniform over stored transitions (of the given fidelities, if not null).
  // Throws std::out_of_range when there is nothing to draw from.
  void Sample(int64_t n, const std::vector<bool>* fidelities, const SampleRows& out);
  // For each member l, n draws among transitions with mask bit l set; out
  // rows are member-major: row l * n + j.
  void SampleMembers(int64_t n, const std::vector<bool>* fidelities, const SampleRows& out);
  // Copies the n stored rows in slots [start, start + n) (index: their slots), e.g. to
  // compute a value per stored transition that later samples look up by index.
  // Throws std::out_of_range unless 0 <= start <= start + n <= size().
  void Read(int64_t start, int64_t n, const SampleRows& out) const;

  // Atomic save (temp file + rename) and a load that checks everything.
  void Save(const std::string& path) const;
  static ReplayRing Load(const std::string& path, int num_threads = 1);  // throws std::runtime_error

 private:
  uint64_t DrawMask();
  uint64_t Below(uint64_t n);  // uniform in [0, n)
  // Appends slot to its queues, or removes it from their fronts.
  void Link(int64_t slot);
  void Unlink(int64_t slot);
  // Rebuilds the queues from the stored rows, oldest first (after Load).
  void Relink();
  SlotQueue& List(int fidelity, int k) { return lists_[fidelity * (members_ + 1) + k]; }
  const SlotQueue& List(int fidelity, int k) const { return lists_[fidelity * (members_ + 1) + k]; }
  // Draws one slot uniformly from the union over fidelities of lists k.
  void DrawFromLists(int k, const std::vector<bool>* fidelities, int64_t n, int64_t* slots);
  void Prefetch(int64_t slot) const;
  void Gather(const int64_t* slots, int64_t n, const SampleRows& out, int64_t row0) const;
  void ParallelGather(const int64_t* slots, int64_t n, const SampleRows& out);

  ReplayConfig config_;
  int64_t capacity_;
  int members_;
  uint64_t mask_threshold_;  // a bit is set when a 64-bit draw is below this
  uint64_t total_ = 0;
  std::mt19937_64 rng_;
  HugeBuffer<float> obs_, action_, reward_, next_obs_, terminated_, truncated_;
  HugeBuffer<uint8_t> fidelity_;
  HugeBuffer<uint64_t> mask_;
  // lists_[f * (L + 1) + k]: slots of fidelity f with mask bit k (k < L), or
  // all slots of fidelity f (k == L), oldest first.
  std::vector<SlotQueue> lists_;
  std::vector<int64_t> scratch_;  // drawn slots of the current sample
  std::unique_ptr<ThreadPool> threads_;
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_REPLAY_RING_H_
