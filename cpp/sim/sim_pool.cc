// The one instantiation of the generic pool: HalfCheetah's (SimPool).
#include "sim/sim_pool.h"

#include "sim/task_pool_impl.h"

namespace mfhrl {

template class TaskPool<HalfCheetahTask>;

}  // namespace mfhrl
