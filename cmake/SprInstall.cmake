# Install: public headers, shared + static libraries, CMake package, pkg-config.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/spinner_rollback DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/generated/spinner_rollback/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/spinner_rollback)
install(FILES capi/spinner_rollback.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(TARGETS spinner_rollback spinner_rollback_static
        EXPORT spinner_rollbackTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT spinner_rollbackTargets NAMESPACE spinner_rollback::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/spinner_rollback)

configure_package_config_file(cmake/spinner_rollbackConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/spinner_rollbackConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/spinner_rollback)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/spinner_rollbackConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/spinner_rollbackConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/spinner_rollbackConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/spinner_rollback)

configure_file(cmake/spinner_rollback.pc.in ${CMAKE_CURRENT_BINARY_DIR}/spinner_rollback.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/spinner_rollback.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# A wheel built by scikit-build-core (bindings/python, whose pyproject.toml
# cannot name a file outside its directory) carries the license in its
# .dist-info/licenses/: SKBUILD_METADATA_DIR is that .dist-info directory.
if(DEFINED SKBUILD_METADATA_DIR)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION "${SKBUILD_METADATA_DIR}/licenses")
endif()
