// SimPool: many HalfCheetah-v5 environments, of one or several fidelities, stepped
// together on a persistent thread pool: the generic pool of sim/task_pool.h over the
// task of sim/half_cheetah_task.h. Usable without Python.
//
//   mfhrl::SimPool pool(pool_config, mfhrl::HalfCheetahConfig{...});
//
// Semantics follow Gymnasium's HalfCheetah-v5 (docs/algorithm.md, "The problem").
// Environments that end are reset inside the same Step call (auto-reset). The fused
// replay write goes through a TransitionSink (core/transition_sink.h) that the caller
// builds around its ReplayRing.
#ifndef MFHRL_SIM_SIM_POOL_H_
#define MFHRL_SIM_SIM_POOL_H_

#include "sim/half_cheetah_task.h"
#include "sim/task_pool.h"

namespace mfhrl {

extern template class TaskPool<HalfCheetahTask>;  // sim/sim_pool.cc
using SimPool = TaskPool<HalfCheetahTask>;

}  // namespace mfhrl

#endif  // MFHRL_SIM_SIM_POOL_H_
