// SlotQueue: a growable FIFO of ring slots with O(1) indexing.
//
// A FIFO replay overwrites transitions in insertion order, so the slots of
// any subset (one member's, one fidelity's) leave in the order they came:
// each subset is a queue. Adding pushes at the back, overwriting pops the
// front, and a uniform draw from the subset is one indexed read.
#ifndef MFHRL_CORE_SLOT_QUEUE_H_
#define MFHRL_CORE_SLOT_QUEUE_H_

#include <cstdint>
#include <utility>

#include "core/huge_buffer.h"

namespace mfhrl {

class SlotQueue {
 public:
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t front() const { return buf_[head_]; }
  uint32_t operator[](uint64_t i) const { return buf_[(head_ + i) & mask_]; }

  void push_back(uint32_t slot) {
    if (size_ == buf_.size()) Grow();
    buf_[(head_ + size_) & mask_] = slot;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & mask_;
    --size_;
  }
  void clear() { head_ = size_ = 0; }

 private:
  void Grow() {
    const uint64_t capacity = buf_.size() == 0 ? 1024 : 2 * buf_.size();
    HugeBuffer<uint32_t> bigger(capacity);
    for (uint64_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
    buf_ = std::move(bigger);
    head_ = 0;
    mask_ = capacity - 1;
  }

  HugeBuffer<uint32_t> buf_;
  uint64_t head_ = 0, size_ = 0, mask_ = 0;
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_SLOT_QUEUE_H_
