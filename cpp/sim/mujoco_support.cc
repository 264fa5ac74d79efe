#include "sim/mujoco_support.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace mfhrl {
namespace sim_detail {

thread_local int intercept_depth = 0;

namespace {

void (*previous_error_hook)(const char*) = nullptr;

void ThrowingErrorHook(const char* message) {
  if (intercept_depth > 0) throw MujocoError(message);
  if (previous_error_hook) {
    previous_error_hook(message);
  } else {
    std::fprintf(stderr, "ERROR: %s\n", message);  // MuJoCo's own behaviour
  }
  std::exit(EXIT_FAILURE);
}

}  // namespace

void InstallErrorHook() {
  static std::once_flag once;
  std::call_once(once, [] {
    previous_error_hook = mju_user_error;
    mju_user_error = ThrowingErrorHook;
  });
}

// Gymnasium's half_cheetah.xml sets the compiler attribute settotalmass, deprecated in
// MuJoCo 3.3: compiling with it prints a warning and appends it to MUJOCO_LOG.TXT in the
// working directory, once per model. So the attribute is cleared before compiling and
// applied to the compiled model instead: mj_setTotalmass scales masses and inertias as
// the compiler does, mj_setConst recomputes the derived constants, and the two
// statistics the compiler derives from them are recomputed as it computes them
// (bit-identical to the compiler's model for HalfCheetah; tests/test_sim_parity).
mjModel* LoadModel(const std::string& path) {
  char error[1024] = "";
  mjSpec* spec = mj_parseXML(path.c_str(), nullptr, error, sizeof(error));
  if (!spec) throw std::runtime_error("MuJoCo could not load '" + path + "': " + error);
  const double total_mass = spec->compiler.settotalmass;
  spec->compiler.settotalmass = -1;
  mjModel* m = mj_compile(spec, nullptr);
  if (!m) {
    const std::string message = mjs_getError(spec);
    mj_deleteSpec(spec);
    throw std::runtime_error("MuJoCo could not compile '" + path + "': " + message);
  }
  mj_deleteSpec(spec);
  if (total_mass > 0) {
    mj_setTotalmass(m, total_mass);
    mjData* d = mj_makeData(m);
    if (!d) {
      mj_deleteModel(m);
      throw std::runtime_error("MuJoCo could not allocate mjData");
    }
    mj_setConst(m, d);
    mj_deleteData(d);
    mjtNum inertia = 0, mass = 0;
    for (int i = 0; i < m->nv; ++i) inertia += m->dof_M0[i];
    for (int b = 1; b < m->nbody; ++b) mass += m->body_mass[b];
    if (m->nv > 0) m->stat.meaninertia = inertia / m->nv;
    if (m->nbody > 1) m->stat.meanmass = mass / (m->nbody - 1);
  }
  return m;
}

}  // namespace sim_detail
}  // namespace mfhrl
