
####### Expanded from @PACKAGE_INIT@ by configure_package_config_file() #######
####### Any changes to this file will be overwritten by the next CMake run ####
####### The input file was spinner_rollbackConfig.cmake.in                            ########

get_filename_component(PACKAGE_PREFIX_DIR "${CMAKE_CURRENT_LIST_DIR}/../../../" ABSOLUTE)

macro(set_and_check _var _file)
  set(${_var} "${_file}")
  if(NOT EXISTS "${_file}")
    message(FATAL_ERROR "File or directory ${_file} referenced by variable ${_var} does not exist !")
  endif()
endmacro()

macro(check_required_components _NAME)
  foreach(comp ${${_NAME}_FIND_COMPONENTS})
    if(NOT ${_NAME}_${comp}_FOUND)
      if(${_NAME}_FIND_REQUIRED_${comp})
        set(${_NAME}_FOUND FALSE)
      endif()
    endif()
  endforeach()
endmacro()

####################################################################################
# spinner_rollback::spinner_rollback        shared library (dependencies private)
# spinner_rollback::spinner_rollback_static static library (needs its dependencies)
include(CMakeFindDependencyMacro)
find_dependency(Threads)
if(NOT TARGET PkgConfig::SODIUM)
  find_dependency(Boost 1.81 COMPONENTS json container)
  find_dependency(SQLite3)
  find_dependency(PkgConfig)
  pkg_check_modules(SODIUM QUIET IMPORTED_TARGET libsodium)
  pkg_check_modules(ZSTD QUIET IMPORTED_TARGET libzstd)
endif()
include("${CMAKE_CURRENT_LIST_DIR}/spinner_rollbackTargets.cmake")
check_required_components(spinner_rollback)
