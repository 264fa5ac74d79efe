// TransitionRows: float32 rows of transitions, as a producer (a simulator pool) hands
// them to a store (the ReplayRing); TransitionSink: where a producer hands them. The
// pool knows only the sink; the caller (the Python binding, the C++ test driver) builds
// one around its store, so the simulator does not depend on the replay.
#ifndef MFHRL_CORE_TRANSITION_SINK_H_
#define MFHRL_CORE_TRANSITION_SINK_H_

#include <cstdint>

namespace mfhrl {

// Rows of transitions, all arrays holding n rows. mask may be null: the ring
// then draws it.
struct TransitionRows {
  int64_t n = 0;
  const float* obs = nullptr;
  const float* action = nullptr;
  const float* reward = nullptr;
  const float* next_obs = nullptr;
  const float* terminated = nullptr;
  const float* truncated = nullptr;
  const uint8_t* fidelity = nullptr;
  const uint64_t* mask = nullptr;
};

// Receives the transitions of one pool step, once per step (a virtual call per
// step, not per environment). The rows are valid only during the call.
class TransitionSink {
 public:
  virtual ~TransitionSink() = default;
  virtual void Add(const TransitionRows& rows) = 0;

 protected:
  TransitionSink() = default;
  TransitionSink(const TransitionSink&) = default;
  TransitionSink& operator=(const TransitionSink&) = default;
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_TRANSITION_SINK_H_
