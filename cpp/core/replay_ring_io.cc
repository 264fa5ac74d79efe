// ReplayRing::Save / Load: a versioned binary file with a checksum.
//
// Layout: magic "MFHRLRB1", header fields, the generator state, the stored
// rows of each field, then an FNV-1a 64 checksum of every byte before it.
// The slot queues are rebuilt oldest first, which is the order they had, so
// sampling after Load continues exactly as it would have without the save.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/replay_ring.h"

namespace mfhrl {
namespace {

constexpr char kMagic[8] = {'M', 'F', 'H', 'R', 'L', 'R', 'B', '1'};

constexpr uint64_t kFnvOffset = 14695981039346656037ull;

uint64_t Fnv1a(uint64_t hash, const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

class HashedWriter {
 public:
  explicit HashedWriter(std::ofstream& out) : out_(out) {}
  void Write(const void* data, size_t bytes) {
    hash_ = Fnv1a(hash_, data, bytes);
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  }
  template <typename T>
  void Put(T value) { Write(&value, sizeof(T)); }
  uint64_t hash() const { return hash_; }

 private:
  std::ofstream& out_;
  uint64_t hash_ = kFnvOffset;
};

class Reader {
 public:
  Reader(std::ifstream& in, std::string path) : in_(in), path_(std::move(path)) {}
  void Read(void* data, size_t bytes, const char* what) {
    in_.read(static_cast<char*>(data), static_cast<std::streamsize>(bytes));
    if (static_cast<size_t>(in_.gcount()) != bytes) {
      throw std::runtime_error("ReplayRing file '" + path_ + "' is truncated (while reading " +
                               what + ")");
    }
  }
  template <typename T>
  T Get(const char* what) {
    T value;
    Read(&value, sizeof(T), what);
    return value;
  }

 private:
  std::ifstream& in_;
  std::string path_;
};

[[noreturn]] void Corrupt(const std::string& path, const std::string& why) {
  throw std::runtime_error("ReplayRing file '" + path + "' is corrupt: " + why);
}

// Checks the trailing checksum against every byte before it, before the
// header is trusted with any allocation.
void VerifyChecksum(std::ifstream& in, const std::string& path, uint64_t file_size) {
  if (file_size < sizeof(kMagic) + 8) Corrupt(path, "too short to be a ReplayRing file (truncated?)");
  std::vector<char> chunk(1 << 20);
  uint64_t hash = kFnvOffset, left = file_size - 8;
  while (left > 0) {
    const size_t bytes = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    in.read(chunk.data(), static_cast<std::streamsize>(bytes));
    hash = Fnv1a(hash, chunk.data(), bytes);
    left -= bytes;
  }
  uint64_t stored = 0;
  in.read(reinterpret_cast<char*>(&stored), sizeof(stored));
  if (!in || stored != hash) Corrupt(path, "checksum mismatch (the file is damaged or truncated)");
  in.seekg(0);
}

}  // namespace

void ReplayRing::Save(const std::string& path) const {
  // num_threads is a property of the process, not of the data: not saved.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot open '" + tmp + "' for writing");
    HashedWriter w(out);
    w.Write(kMagic, sizeof(kMagic));
    w.Put<uint32_t>(kFileVersion);
    w.Put<uint32_t>(config_.obs_dim);
    w.Put<uint32_t>(config_.act_dim);
    w.Put<uint32_t>(members_);
    w.Put<int64_t>(capacity_);
    w.Put<uint64_t>(total_);
    w.Put<double>(config_.mask_prob);
    w.Put<uint64_t>(config_.seed);
    std::ostringstream rng_text;
    rng_text << rng_;
    const std::string rng_state = rng_text.str();
    w.Put<uint64_t>(rng_state.size());
    w.Write(rng_state.data(), rng_state.size());
    const size_t n = static_cast<size_t>(size());
    w.Write(obs_.data(), sizeof(float) * n * config_.obs_dim);
    w.Write(next_obs_.data(), sizeof(float) * n * config_.obs_dim);
    w.Write(action_.data(), sizeof(float) * n * config_.act_dim);
    w.Write(reward_.data(), sizeof(float) * n);
    w.Write(terminated_.data(), sizeof(float) * n);
    w.Write(truncated_.data(), sizeof(float) * n);
    w.Write(fidelity_.data(), n);
    w.Write(mask_.data(), sizeof(uint64_t) * n);
    const uint64_t checksum = w.hash();
    out.write(reinterpret_cast<const char*>(&checksum), sizeof(checksum));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw std::runtime_error("error while writing '" + tmp + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error("cannot move '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

ReplayRing ReplayRing::Load(const std::string& path, int num_threads) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (!in || ec) throw std::runtime_error("cannot open ReplayRing file '" + path + "'");
  VerifyChecksum(in, path, file_size);
  Reader r(in, path);
  char magic[sizeof(kMagic)];
  r.Read(magic, sizeof(magic), "the magic number");
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) Corrupt(path, "not a ReplayRing file");
  const uint32_t version = r.Get<uint32_t>("the version");
  if (version != kFileVersion) {
    Corrupt(path, "file version " + std::to_string(version) + ", this build reads version " +
                      std::to_string(kFileVersion));
  }
  ReplayConfig config;
  config.obs_dim = static_cast<int>(r.Get<uint32_t>("obs_dim"));
  config.act_dim = static_cast<int>(r.Get<uint32_t>("act_dim"));
  config.num_members = static_cast<int>(r.Get<uint32_t>("num_members"));
  config.capacity = r.Get<int64_t>("capacity");
  const uint64_t total = r.Get<uint64_t>("the counter");
  config.mask_prob = r.Get<double>("mask_prob");
  config.seed = r.Get<uint64_t>("the seed");
  config.num_threads = num_threads;
  const uint64_t rng_len = r.Get<uint64_t>("the generator state");
  // The file's length must be exactly what the header describes.
  const uint64_t stored = total < static_cast<uint64_t>(config.capacity) ? total : config.capacity;
  const uint64_t row_bytes = 4ull * (2 * config.obs_dim + config.act_dim + 3) + 1 + 8;
  const uint64_t header_bytes = sizeof(kMagic) + 4 * 4 + 8 * 5;
  if (config.capacity < 1 || config.obs_dim < 1 || config.act_dim < 1 || rng_len > (1 << 16) ||
      header_bytes + rng_len + stored * row_bytes + 8 != file_size) {
    Corrupt(path, "its header does not match its length of " + std::to_string(file_size) + " bytes");
  }
  std::unique_ptr<ReplayRing> made;
  try {
    made = std::make_unique<ReplayRing>(config);  // validates the remaining fields
  } catch (const std::invalid_argument& e) {
    Corrupt(path, e.what());
  }
  ReplayRing& ring = *made;
  std::string rng_state(rng_len, '\0');
  r.Read(rng_state.data(), rng_len, "the generator state");
  std::istringstream(rng_state) >> ring.rng_;
  ring.total_ = total;
  const size_t n = stored;
  r.Read(ring.obs_.data(), sizeof(float) * n * config.obs_dim, "obs");
  r.Read(ring.next_obs_.data(), sizeof(float) * n * config.obs_dim, "next_obs");
  r.Read(ring.action_.data(), sizeof(float) * n * config.act_dim, "action");
  r.Read(ring.reward_.data(), sizeof(float) * n, "reward");
  r.Read(ring.terminated_.data(), sizeof(float) * n, "terminated");
  r.Read(ring.truncated_.data(), sizeof(float) * n, "truncated");
  r.Read(ring.fidelity_.data(), n, "fidelity");
  r.Read(ring.mask_.data(), sizeof(uint64_t) * n, "mask");
  for (size_t i = 0; i < n; ++i) {
    if (ring.members_ < 64 && (ring.mask_[i] >> ring.members_) != 0) {
      Corrupt(path, "a mask has bits past num_members");
    }
  }
  ring.Relink();
  return std::move(ring);
}

}  // namespace mfhrl
