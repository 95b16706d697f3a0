#----------------------------------------------------------------
# Generated CMake target import file for configuration "Debug".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "spinner_rollback::spinner_rollback" for configuration "Debug"
set_property(TARGET spinner_rollback::spinner_rollback APPEND PROPERTY IMPORTED_CONFIGURATIONS DEBUG)
set_target_properties(spinner_rollback::spinner_rollback PROPERTIES
  IMPORTED_LOCATION_DEBUG "${_IMPORT_PREFIX}/lib/libspinner_rollback.so.0.1.0"
  IMPORTED_SONAME_DEBUG "libspinner_rollback.so.0"
  )

list(APPEND _cmake_import_check_targets spinner_rollback::spinner_rollback )
list(APPEND _cmake_import_check_files_for_spinner_rollback::spinner_rollback "${_IMPORT_PREFIX}/lib/libspinner_rollback.so.0.1.0" )

# Import target "spinner_rollback::spinner_rollback_static" for configuration "Debug"
set_property(TARGET spinner_rollback::spinner_rollback_static APPEND PROPERTY IMPORTED_CONFIGURATIONS DEBUG)
set_target_properties(spinner_rollback::spinner_rollback_static PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_DEBUG "CXX"
  IMPORTED_LOCATION_DEBUG "${_IMPORT_PREFIX}/lib/libspinner_rollback.a"
  )

list(APPEND _cmake_import_check_targets spinner_rollback::spinner_rollback_static )
list(APPEND _cmake_import_check_files_for_spinner_rollback::spinner_rollback_static "${_IMPORT_PREFIX}/lib/libspinner_rollback.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
