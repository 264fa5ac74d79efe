// A fixed-size array; from 2 MiB up it sits on 2 MiB-aligned memory advised
// for transparent huge pages, so random row reads from a large replay miss
// the TLB far less. The memory is touched (zeroed) up front, so page faults
// and huge-page compaction happen at construction, not inside a hot loop.
#ifndef MFHRL_CORE_HUGE_BUFFER_H_
#define MFHRL_CORE_HUGE_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace mfhrl {

template <typename T>
class HugeBuffer {
 public:
  static constexpr size_t kAlign = size_t{2} << 20;

  HugeBuffer() = default;
  explicit HugeBuffer(size_t n) : size_(n) {
    if (n == 0) return;
    const bool huge = n * sizeof(T) >= kAlign;
    const size_t align = huge ? kAlign : 64;
    const size_t bytes = (n * sizeof(T) + align - 1) / align * align;
    data_ = static_cast<T*>(std::aligned_alloc(align, bytes));
    if (!data_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge) madvise(data_, bytes, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
    std::memset(static_cast<void*>(data_), 0, bytes);
  }
  ~HugeBuffer() { std::free(data_); }
  HugeBuffer(HugeBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_HUGE_BUFFER_H_
