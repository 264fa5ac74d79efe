// Bindings of ReplayRing: add, sample, sample_members, save and load.
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bind/checks.h"
#include "bind/gil.h"
#include "bind/module.h"
#include "core/replay_ring.h"

namespace mfhrl {
namespace bind {
namespace {

const char* const kFields[] = {"obs",        "action",    "reward",   "next_obs", "terminated",
                               "truncated", "fidelity", "mask",     "index"};

// A batch's arrays in kFields order, holding the memory its rows point into.
struct Batch {
  std::vector<py::array> arrays;
  SampleRows rows;

  // A fresh dict of the arrays: editing it cannot free memory the ring writes.
  py::dict AsDict() const {
    py::dict d;
    for (size_t f = 0; f < arrays.size(); ++f) d[kFields[f]] = arrays[f];
    return d;
  }
};

Batch Validate(const py::dict& out, const std::vector<std::vector<py::ssize_t>>& shapes);

// The ring plus the output batches it reuses, by (batch size, per member).
struct PyReplayRing {
  static constexpr size_t kMaxCachedBatches = 16;

  std::unique_ptr<ReplayRing> ring;
  std::map<std::pair<int64_t, bool>, Batch> batches;
  std::unique_ptr<std::mutex> mutex = std::make_unique<std::mutex>();

  // Shapes of a batch's fields: lead = (n) or (L, n).
  std::vector<std::vector<py::ssize_t>> Shapes(int64_t n, bool members) const {
    const ReplayConfig& c = ring->config();
    std::vector<py::ssize_t> lead = members ? std::vector<py::ssize_t>{c.num_members, n}
                                            : std::vector<py::ssize_t>{n};
    auto with = [&](std::vector<py::ssize_t> tail) {
      std::vector<py::ssize_t> s = lead;
      s.insert(s.end(), tail.begin(), tail.end());
      return s;
    };
    return {with({c.obs_dim}), with({c.act_dim}), lead, with({c.obs_dim}),
            lead,              lead,               lead, with({c.num_members})};
  }

  // A fresh batch; with_index adds "index", the int64 slot of every drawn row.
  py::dict NewBatch(int64_t n, bool members, bool with_index = false) const {
    const auto shapes = Shapes(n, members);
    py::dict batch;
    for (int f = 0; f < 6; ++f) batch[kFields[f]] = py::array_t<float>(shapes[f]);
    batch["fidelity"] = py::array_t<uint8_t>(shapes[6]);
    batch["mask"] = py::array_t<bool>(shapes[7]);
    if (with_index) batch["index"] = py::array_t<int64_t>(shapes[2]);
    return batch;
  }

  // The reused batch of this size, made on first use.
  const Batch& Cached(int64_t n, bool members) {
    const auto key = std::make_pair(n, members);
    auto it = batches.find(key);
    if (it != batches.end()) return it->second;
    if (batches.size() >= kMaxCachedBatches) batches.clear();
    return batches.emplace(key, Validate(NewBatch(n, members), Shapes(n, members))).first->second;
  }
};

// A destination array: exact dtype, C-contiguous, writeable, exact shape.
template <typename T>
T* Destination(const py::dict& out, const char* key, const std::vector<py::ssize_t>& shape,
               std::vector<py::array>* keep) {
  if (!out.contains(key)) throw py::value_error(std::string("out is missing '") + key + "'");
  py::object value = out[key];
  if (!py::isinstance<py::array>(value)) {
    throw py::type_error(std::string("out['") + key + "'] must be a NumPy array");
  }
  py::array a = value.cast<py::array>();
  if (!a.dtype().is(py::dtype::of<T>()) && !a.dtype().equal(py::dtype::of<T>())) {
    throw py::type_error(std::string("out['") + key + "'] must have dtype " +
                         py::str(py::dtype::of<T>()).cast<std::string>() + ", got " +
                         py::str(a.dtype()).cast<std::string>());
  }
  if (!(a.flags() & py::array::c_style) || !a.writeable()) {
    throw py::value_error(std::string("out['") + key + "'] must be C-contiguous and writeable");
  }
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  if (!ok) throw py::value_error(std::string("out['") + key + "'] has the wrong shape");
  keep->push_back(a);
  return static_cast<T*>(a.mutable_data());
}

Batch Validate(const py::dict& out, const std::vector<std::vector<py::ssize_t>>& shapes) {
  Batch b;
  b.rows.obs = Destination<float>(out, "obs", shapes[0], &b.arrays);
  b.rows.action = Destination<float>(out, "action", shapes[1], &b.arrays);
  b.rows.reward = Destination<float>(out, "reward", shapes[2], &b.arrays);
  b.rows.next_obs = Destination<float>(out, "next_obs", shapes[3], &b.arrays);
  b.rows.terminated = Destination<float>(out, "terminated", shapes[4], &b.arrays);
  b.rows.truncated = Destination<float>(out, "truncated", shapes[5], &b.arrays);
  b.rows.fidelity = Destination<uint8_t>(out, "fidelity", shapes[6], &b.arrays);
  b.rows.mask = Destination<bool>(out, "mask", shapes[7], &b.arrays);
  // Optional: the slot of every drawn row (shaped as reward).
  if (out.contains("index")) b.rows.index = Destination<int64_t>(out, "index", shapes[2], &b.arrays);
  return b;
}

std::unique_ptr<std::vector<bool>> FidelitySet(const py::object& fidelities) {
  if (fidelities.is_none()) return nullptr;
  auto set = std::make_unique<std::vector<bool>>(ReplayRing::kNumFidelities, false);
  if (!py::isinstance<py::iterable>(fidelities) || py::isinstance<py::str>(fidelities)) {
    throw py::type_error("fidelities must be an iterable of ints");
  }
  for (const py::handle& h : fidelities) {
    if (!py::isinstance<py::int_>(h) && !py::isinstance(h, py::module_::import("numpy").attr("integer"))) {
      throw py::type_error("fidelities must be ints, got " + py::repr(h).cast<std::string>());
    }
    const int f = h.cast<int>();
    if (f < 0 || f >= ReplayRing::kNumFidelities) {
      throw py::value_error("fidelity ids are in [0, 256), got " + std::to_string(f));
    }
    (*set)[f] = true;
  }
  return set;
}

py::dict Sample(PyReplayRing& self, int64_t n, const py::object& fidelities, const py::object& out,
                bool members) {
  if (n < 1) throw py::value_error("batch_size must be >= 1, got " + std::to_string(n));
  auto set = FidelitySet(fidelities);
  // A copy holding references: its arrays stay alive while the GIL is
  // released, whatever other threads do to the cache or to `out`.
  const Batch batch = out.is_none() ? self.Cached(n, members)
                                    : Validate(out.cast<py::dict>(), self.Shapes(n, members));
  const SampleRows& rows = batch.rows;
  {
    ReleaseAndLock guard(*self.mutex);
    if (members) {
      self.ring->SampleMembers(n, set.get(), rows);
    } else {
      self.ring->Sample(n, set.get(), rows);
    }
  }
  return out.is_none() ? batch.AsDict() : out.cast<py::dict>();
}

// Fresh arrays (with "index") of the stored rows in slots [start, stop), stop None: size.
py::dict Rows(PyReplayRing& self, int64_t start, const py::object& stop_in) {
  int64_t size;
  {
    std::lock_guard<std::mutex> lock(*self.mutex);
    size = self.ring->size();
  }
  const int64_t stop = stop_in.is_none() ? size : stop_in.cast<int64_t>();
  if (start < 0 || stop < start || stop > size) {
    throw py::value_error("need 0 <= start <= stop <= size (" + std::to_string(size) +
                          "), got start " + std::to_string(start) + ", stop " +
                          std::to_string(stop));
  }
  py::dict out = self.NewBatch(stop - start, false, true);
  if (stop == start) return out;
  const Batch batch = Validate(out, self.Shapes(stop - start, false));
  ReleaseAndLock guard(*self.mutex);
  self.ring->Read(start, stop - start, batch.rows);  // the size cannot shrink meanwhile
  return out;
}

// Packs (n, L) booleans, or takes (n,) uint64 bit masks.
std::vector<uint64_t> PackMasks(const py::object& mask, int64_t n, int members) {
  std::vector<uint64_t> packed(n, 0);
  const py::array raw = py::array::ensure(mask);
  if (raw && raw.ndim() == 1 && raw.dtype().equal(py::dtype::of<uint64_t>())) {
    if (raw.shape(0) != n) throw py::value_error("mask must have one row per transition");
    const auto bits = CArray<uint64_t>::ensure(raw);
    std::copy_n(bits.data(), n, packed.data());
    return packed;
  }
  const auto flags = Numeric<bool>(mask, "mask", "bui");
  CheckShape(flags, "mask", {n, members});
  for (int64_t i = 0; i < n; ++i) {
    for (int l = 0; l < members; ++l) packed[i] |= uint64_t{flags.data()[i * members + l]} << l;
  }
  return packed;
}

void CheckFlags(const CArray<float>& a, const char* name) {
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (a.data()[i] != 0.0f && a.data()[i] != 1.0f) {
      throw py::value_error(std::string(name) + " must be 0 or 1; row " + std::to_string(i) +
                            " holds " + std::to_string(a.data()[i]));
    }
  }
}

void Add(PyReplayRing& self, const py::object& obs_in, const py::object& action_in,
         const py::object& reward_in, const py::object& next_obs_in,
         const py::object& terminated_in, const py::object& truncated_in,
         const py::object& fidelity_in, const py::object& mask) {
  const ReplayConfig& c = self.ring->config();
  const auto obs = Numeric<float>(obs_in, "obs", "biuf");
  const auto action = Numeric<float>(action_in, "action", "biuf");
  const auto reward = Numeric<float>(reward_in, "reward", "biuf");
  const auto next_obs = Numeric<float>(next_obs_in, "next_obs", "biuf");
  const auto terminated = Numeric<float>(terminated_in, "terminated", "biuf");
  const auto truncated = Numeric<float>(truncated_in, "truncated", "biuf");
  const auto fidelity = Numeric<int64_t>(fidelity_in, "fidelity", "iu");
  const int64_t n = obs.ndim() > 0 ? obs.shape(0) : 0;
  CheckShape(obs, "obs", {n, c.obs_dim});
  CheckShape(action, "action", {n, c.act_dim});
  CheckShape(reward, "reward", {n});
  CheckShape(next_obs, "next_obs", {n, c.obs_dim});
  CheckShape(terminated, "terminated", {n});
  CheckShape(truncated, "truncated", {n});
  CheckShape(fidelity, "fidelity", {n});
  CheckFinite(obs, "obs", c.obs_dim);
  CheckFinite(action, "action", c.act_dim);
  CheckFinite(reward, "reward", 1);
  CheckFinite(next_obs, "next_obs", c.obs_dim);
  CheckFlags(terminated, "terminated");
  CheckFlags(truncated, "truncated");
  std::vector<uint8_t> ids(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t f = fidelity.data()[i];
    if (f < 0 || f >= ReplayRing::kNumFidelities) {
      throw py::value_error("fidelity ids are in [0, 256); row " + std::to_string(i) + " holds " +
                            std::to_string(f));
    }
    ids[i] = static_cast<uint8_t>(f);
  }
  std::vector<uint64_t> masks;
  if (!mask.is_none()) masks = PackMasks(mask, n, c.num_members);
  TransitionRows rows;
  rows.n = n;
  rows.obs = obs.data();
  rows.action = action.data();
  rows.reward = reward.data();
  rows.next_obs = next_obs.data();
  rows.terminated = terminated.data();
  rows.truncated = truncated.data();
  rows.fidelity = ids.data();
  rows.mask = masks.empty() ? nullptr : masks.data();
  ReleaseAndLock guard(*self.mutex);
  self.ring->Add(rows);
}

}  // namespace

RingRef AsReplayRing(const py::object& replay) {
  if (!py::isinstance<PyReplayRing>(replay)) {
    throw py::type_error("replay must be a mfhrl_fast ReplayRing");
  }
  PyReplayRing& r = replay.cast<PyReplayRing&>();
  return RingRef{r.ring.get(), r.mutex.get()};
}

void BindReplayRing(py::module_& m) {
  py::register_exception<std::out_of_range>(m, "EmptySampleError", PyExc_ValueError);
  py::class_<PyReplayRing>(m, "ReplayRing")
      .def(py::init([](int64_t capacity, int obs_dim, int act_dim, int num_members,
                       double mask_prob, uint64_t seed, int num_threads) {
             ReplayConfig c{capacity, obs_dim, act_dim, num_members, mask_prob, seed, num_threads};
             return PyReplayRing{std::make_unique<ReplayRing>(c), {}, std::make_unique<std::mutex>()};
           }),
           py::kw_only(), py::arg("capacity"), py::arg("obs_dim"), py::arg("act_dim"),
           py::arg("num_members") = 1, py::arg("mask_prob") = 0.5, py::arg("seed") = 0,
           py::arg("num_threads") = 1)
      .def_property_readonly("capacity", [](const PyReplayRing& r) { return r.ring->config().capacity; })
      .def_property_readonly("obs_dim", [](const PyReplayRing& r) { return r.ring->config().obs_dim; })
      .def_property_readonly("act_dim", [](const PyReplayRing& r) { return r.ring->config().act_dim; })
      .def_property_readonly("num_members", [](const PyReplayRing& r) { return r.ring->config().num_members; })
      .def_property_readonly("mask_prob", [](const PyReplayRing& r) { return r.ring->config().mask_prob; })
      .def_property_readonly("num_threads", [](const PyReplayRing& r) { return r.ring->config().num_threads; })
      .def_property_readonly("total_added", [](const PyReplayRing& r) {
        std::lock_guard<std::mutex> lock(*r.mutex);  // the holder never waits for the GIL
        return r.ring->total_added();
      })
      .def("__len__", [](const PyReplayRing& r) {
        std::lock_guard<std::mutex> lock(*r.mutex);
        return r.ring->size();
      })
      .def("reseed", [](PyReplayRing& r, uint64_t seed) {
             std::lock_guard<std::mutex> lock(*r.mutex);
             r.ring->Reseed(seed);
           }, py::arg("seed"))
      .def("member_count", [](const PyReplayRing& r, int member, const py::object& fidelities) {
             if (member < 0 || member >= r.ring->config().num_members) {
               throw py::value_error("member must be in [0, num_members)");
             }
             auto set = FidelitySet(fidelities);
             std::lock_guard<std::mutex> lock(*r.mutex);
             return r.ring->MemberCount(member, set.get());
           }, py::arg("member"), py::arg("fidelities") = py::none())
      .def("add", &Add, py::kw_only(), py::arg("obs"), py::arg("action"), py::arg("reward"),
           py::arg("next_obs"), py::arg("terminated"), py::arg("truncated"), py::arg("fidelity"),
           py::arg("mask") = py::none())
      .def("sample", [](PyReplayRing& r, int64_t n, const py::object& fidelities, const py::object& out) {
             return Sample(r, n, fidelities, out, false);
           }, py::arg("batch_size"), py::kw_only(), py::arg("fidelities") = py::none(),
           py::arg("out") = py::none())
      .def("sample_members", [](PyReplayRing& r, int64_t n, const py::object& fidelities, const py::object& out) {
             return Sample(r, n, fidelities, out, true);
           }, py::arg("batch_size"), py::kw_only(), py::arg("fidelities") = py::none(),
           py::arg("out") = py::none())
      .def("rows", &Rows, py::arg("start") = 0, py::arg("stop") = py::none())
      .def("empty_batch", [](const PyReplayRing& r, int64_t n, bool members, bool index) {
             if (n < 1) throw py::value_error("batch_size must be >= 1");
             return r.NewBatch(n, members, index);
           }, py::arg("batch_size"), py::kw_only(), py::arg("members") = false,
           py::arg("index") = false)
      .def("save", [](const PyReplayRing& r, const std::string& path) {
             ReleaseAndLock guard(*r.mutex);
             r.ring->Save(path);
           }, py::arg("path"))
      .def_static("load", [](const std::string& path, int num_threads) {
             std::unique_ptr<ReplayRing> ring;
             {
               py::gil_scoped_release release;
               ring = std::make_unique<ReplayRing>(ReplayRing::Load(path, num_threads));
             }
             return PyReplayRing{std::move(ring), {}, std::make_unique<std::mutex>()};
           }, py::arg("path"), py::kw_only(), py::arg("num_threads") = 1);
}

}  // namespace bind
}  // namespace mfhrl
