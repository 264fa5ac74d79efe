// The binding files' entry points, each adding its part of mfhrl_fast._core
// (called by module.cc), and what one binding file takes from another.
#ifndef MFHRL_BIND_MODULE_H_
#define MFHRL_BIND_MODULE_H_

#include <pybind11/pybind11.h>

#include <mutex>

namespace mfhrl {

class ReplayRing;

namespace bind {

void BindFidelitySpec(pybind11::module_& m);  // sim.cc
void BindSimPool(pybind11::module_& m);       // sim.cc
void BindReplayRing(pybind11::module_& m);    // replay.cc
void BindInfo(pybind11::module_& m);          // info.cc: submodule _core.info
void BindNN(pybind11::module_& m);            // nn.cc: submodule _core.nn
// Adds posterior_update, information_gain and choose_fidelity to the
// submodule _core.info (info_igm.cc).
void BindInfoIgm(pybind11::module_& info);

// The C++ ring of a Python _core.ReplayRing and the mutex guarding it
// (replay.cc); TypeError for anything else.
struct RingRef {
  ReplayRing* ring;
  std::mutex* mutex;
};
RingRef AsReplayRing(const pybind11::object& replay);

}  // namespace bind
}  // namespace mfhrl

#endif  // MFHRL_BIND_MODULE_H_
