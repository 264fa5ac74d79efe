// Process-wide thread pools shared by callers that pass a thread count per call
// (the information module's bindings), one pool per thread count.
//
// A pool is created on first use and kept for the life of the process (never
// destroyed, so no worker is joined during interpreter shutdown). A pool serves
// one lease at a time: a lease that finds it busy (another thread is inside a
// leased section), or finds the registry itself busy, gets no pool, and the
// caller runs on its own thread instead, which gives the same results by design
// (see core/thread_pool.h). A pool inherited through fork() has no workers in
// the child, so a child process makes its own.
#ifndef MFHRL_CORE_THREAD_POOL_REGISTRY_H_
#define MFHRL_CORE_THREAD_POOL_REGISTRY_H_

#include <mutex>

#include "core/thread_pool.h"

namespace mfhrl {

// Holds the shared pool of `num_threads` threads while in scope.
class PoolLease {
 public:
  explicit PoolLease(int num_threads);
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;

  // The leased pool; nullptr for num_threads <= 1 or when the pool was busy:
  // run on the calling thread.
  ThreadPool* get() const { return pool_; }

 private:
  std::unique_lock<std::mutex> lock_;
  ThreadPool* pool_ = nullptr;
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_THREAD_POOL_REGISTRY_H_
