// ReleaseAndLock: how the bindings run a batched call with the GIL released.
#ifndef MFHRL_BIND_GIL_H_
#define MFHRL_BIND_GIL_H_

#include <pybind11/pybind11.h>

#include <mutex>

namespace mfhrl {
namespace bind {

// Releases the GIL, then takes an object's mutex, so that Python threads
// sharing a pool or a ring run its batched calls one at a time.
class ReleaseAndLock {
 public:
  explicit ReleaseAndLock(std::mutex& mutex) : lock_(mutex) {}

 private:
  pybind11::gil_scoped_release release_;  // declared first: released before locking
  std::lock_guard<std::mutex> lock_;
};

}  // namespace bind
}  // namespace mfhrl

#endif  // MFHRL_BIND_GIL_H_
