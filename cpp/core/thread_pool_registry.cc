// The registry of shared thread pools behind PoolLease (core/thread_pool_registry.h).
#include "core/thread_pool_registry.h"

#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>

#include "core/thread_pool.h"

namespace mfhrl {
namespace {

struct PoolSlot {
  std::mutex busy;
  std::unique_ptr<ThreadPool> pool;
  pid_t owner = 0;
};

}  // namespace

PoolLease::PoolLease(int num_threads) {
  if (num_threads <= 1) return;
  static std::mutex registry_mutex;
  static auto* registry = new std::map<int, std::unique_ptr<PoolSlot>>();
  PoolSlot* slot = nullptr;
  {
    std::unique_lock<std::mutex> guard(registry_mutex, std::try_to_lock);
    if (!guard.owns_lock()) return;
    std::unique_ptr<PoolSlot>& s = (*registry)[num_threads];
    if (!s) s = std::make_unique<PoolSlot>();
    slot = s.get();
  }
  lock_ = std::unique_lock<std::mutex>(slot->busy, std::try_to_lock);
  if (!lock_.owns_lock()) return;
  const pid_t pid = getpid();
  if (slot->pool && slot->owner != pid) {
    (void)slot->pool.release();  // the parent's pool: its threads do not exist here
  }
  if (!slot->pool) {
    slot->pool = std::make_unique<ThreadPool>(num_threads);
    slot->owner = pid;
  }
  pool_ = slot->pool.get();
}

}  // namespace mfhrl
