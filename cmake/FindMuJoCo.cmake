# Finds MuJoCo inside the installed `mujoco` Python wheel, which ships
# include/ and a versioned libmujoco.so.X.Y.Z next to its __init__.py.
#
# Defines MuJoCo::MuJoCo (IMPORTED SHARED), MuJoCo_DIR_PY (the wheel's
# folder) and MuJoCo_VERSION (the wheel's version string).
execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import mujoco, os; print(os.path.dirname(mujoco.__file__)); print(mujoco.__version__)"
  OUTPUT_VARIABLE _mujoco_out
  RESULT_VARIABLE _mujoco_rc
  ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _mujoco_rc EQUAL 0)
  message(FATAL_ERROR "The `mujoco` Python package is not importable by ${Python_EXECUTABLE}; "
                      "install the pinned version (see pyproject.toml) first.")
endif()
string(REPLACE "\n" ";" _mujoco_out "${_mujoco_out}")
list(GET _mujoco_out 0 MuJoCo_DIR_PY)
list(GET _mujoco_out 1 MuJoCo_VERSION)

find_path(MuJoCo_INCLUDE_DIR mujoco/mujoco.h PATHS "${MuJoCo_DIR_PY}/include" NO_DEFAULT_PATH)
file(GLOB _mujoco_libs "${MuJoCo_DIR_PY}/libmujoco.so.*")
list(LENGTH _mujoco_libs _n)
if(NOT MuJoCo_INCLUDE_DIR OR NOT _n EQUAL 1)
  message(FATAL_ERROR "No include/ or exactly one libmujoco.so.* in ${MuJoCo_DIR_PY}")
endif()
list(GET _mujoco_libs 0 MuJoCo_LIBRARY)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MuJoCo REQUIRED_VARS MuJoCo_LIBRARY MuJoCo_INCLUDE_DIR
                                  VERSION_VAR MuJoCo_VERSION)
if(MuJoCo_FOUND AND NOT TARGET MuJoCo::MuJoCo)
  add_library(MuJoCo::MuJoCo SHARED IMPORTED)
  set_target_properties(MuJoCo::MuJoCo PROPERTIES
    IMPORTED_LOCATION "${MuJoCo_LIBRARY}"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${MuJoCo_INCLUDE_DIR}")
endif()
