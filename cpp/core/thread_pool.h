// A persistent pool of worker threads for data-parallel loops.
//
// ParallelFor(n, body) splits [0, n) into one contiguous chunk per thread
// (the calling thread takes the first) and returns when every chunk is done.
// The split depends only on n and the thread count and every item is computed
// by the same code, so callers whose items are independent get results that
// do not depend on the thread count.
//
// Idle workers spin briefly before sleeping, so back-to-back calls (a step
// loop) do not pay a futex wake-up each; a pool left idle sleeps.
#ifndef MFHRL_CORE_THREAD_POOL_H_
#define MFHRL_CORE_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/function_ref.h"

namespace mfhrl {

class ThreadPool {
 public:
  // num_threads counts the calling thread; values < 1 mean one per core.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs body(begin, end) over a partition of [0, n). Rethrows the first
  // exception a chunk threw, after all chunks have finished. Not reentrant:
  // one ParallelFor at a time per pool.
  void ParallelFor(int64_t n, FunctionRef<void(int64_t, int64_t)> body);

 private:
  void WorkerLoop(int worker);
  void RunChunk(int chunk);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stopping_ = false;  // guarded by mutex_
  // The job of the current generation, published by the generation_ store.
  int64_t job_n_ = 0;
  int job_chunks_ = 0;
  FunctionRef<void(int64_t, int64_t)>* job_body_ = nullptr;
  std::exception_ptr job_error_;  // guarded by mutex_
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_THREAD_POOL_H_
