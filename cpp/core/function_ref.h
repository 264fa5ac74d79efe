// A non-owning reference to a callable: lets the thread pool run a lambda
// without the heap allocation a std::function may make on every step.
#ifndef MFHRL_CORE_FUNCTION_REF_H_
#define MFHRL_CORE_FUNCTION_REF_H_

#include <type_traits>
#include <utility>

namespace mfhrl {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<
                            !std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f) noexcept  // NOLINT(runtime/explicit): implicit by design
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(
              std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const {
    return call_(object_, std::forward<Args>(args)...);
  }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace mfhrl

#endif  // MFHRL_CORE_FUNCTION_REF_H_
