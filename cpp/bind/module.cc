// pybind11 module mfhrl_fast._core: the C++ core's Python face. Each part is
// bound by its own file in cpp/bind/ (declared in module.h).
#include <pybind11/pybind11.h>

#include <string>

#include <mujoco/mujoco.h>

#include "bind/module.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "mfhrl_fast C++ core: multi-fidelity HalfCheetah pool.";
  m.attr("MUJOCO_HEADER_VERSION") = mjVERSION_HEADER;
  m.attr("mujoco_runtime_version") = std::string(mj_versionString());
  mfhrl::bind::BindFidelitySpec(m);
  mfhrl::bind::BindSimPool(m);
  mfhrl::bind::BindReplayRing(m);
  mfhrl::bind::BindInfo(m);
  mfhrl::bind::BindNN(m);
}
