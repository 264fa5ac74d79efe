#!/usr/bin/env bash
# Builds the C++ core, the examples and the test driver under ASan+UBSan and under TSan,
# and runs them; any sanitizer report fails (halt_on_error). Needs the package installed
# in the active environment (MuJoCo's wheel, cmake, ninja).   bash cpp/tests/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
xml=$(python -c "import mfhrl_fast; print(mfhrl_fast.half_cheetah_xml())")
for sanitizers in "address;undefined" "thread"; do
  dir="build/sanitize-${sanitizers%%;*}"
  echo "sanitizers ${sanitizers}: building in ${dir}"
  if ! { cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
           -DMFHRL_BUILD_PYTHON=OFF -DMFHRL_BUILD_EXAMPLES=ON -DMFHRL_BUILD_TESTS=ON \
           -DMFHRL_SANITIZE="$sanitizers" && cmake --build "$dir" -j 2; } > "$dir.log" 2>&1; then
    tail -40 "$dir.log"
    exit 1
  fi
  (
    cd "$dir"
    export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    export TSAN_OPTIONS=halt_on_error=1
    ./cpp/tests/core_check "$xml"
    ./cpp/examples/info_check > info_check.log || { cat info_check.log; exit 1; }
    ./cpp/examples/two_fidelity_pool "$xml" 300 | tail -1
  )
done
echo "sanitizers: clean"
