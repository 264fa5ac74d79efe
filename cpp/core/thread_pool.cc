#include "core/thread_pool.h"

#include <algorithm>

namespace mfhrl {

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads < 1) {
    num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  num_threads_ = num_threads;
  workers_.reserve(num_threads_ - 1);
  for (int w = 1; w < num_threads_; ++w) {
    workers_.emplace_back([this, w] { WorkerLoop(w); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunChunk(int chunk) {
  const int64_t begin = job_n_ * chunk / job_chunks_;
  const int64_t end = job_n_ * (chunk + 1) / job_chunks_;
  if (begin >= end) return;
  try {
    (*job_body_)(begin, end);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!job_error_) job_error_ = std::current_exception();
  }
}

void ThreadPool::ParallelFor(int64_t n, FunctionRef<void(int64_t, int64_t)> body) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(num_threads_, n));
  if (chunks == 1) {
    body(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_n_ = n;
    job_chunks_ = chunks;
    job_body_ = &body;
    job_error_ = nullptr;
    pending_ = chunks - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  RunChunk(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
    job_body_ = nullptr;
    error = job_error_;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::WorkerLoop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (worker >= job_chunks_) continue;  // fewer chunks than threads
    }
    RunChunk(worker);
    bool last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = --pending_ == 0;
    }
    if (last) done_cv_.notify_one();
  }
}

}  // namespace mfhrl
