# Every dependency comes from Debian bookworm packages (see docs/architecture.md, "Dependencies").
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json container)
find_package(SQLite3 REQUIRED)
find_package(Microsoft.GSL CONFIG QUIET)
if(NOT Microsoft.GSL_FOUND)
  find_path(GSL_INCLUDE_DIR gsl/gsl REQUIRED)
  add_library(Microsoft.GSL::GSL INTERFACE IMPORTED)
  set_target_properties(Microsoft.GSL::GSL PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${GSL_INCLUDE_DIR})
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# libpq: the PostgreSQL backend (docs/backends.md).
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
# libcrypto (OpenSSL, loaded with libpq anyway): SHA-256 and HMAC-SHA256 with
# the CPU's SHA instructions (docs/architecture.md, "Dependencies").
pkg_check_modules(CRYPTO REQUIRED IMPORTED_TARGET libcrypto)

# Everything the core needs, linked PRIVATE so no dependency type reaches users.
add_library(spr_deps INTERFACE)
target_link_libraries(spr_deps INTERFACE
  Boost::json Boost::container Boost::headers SQLite::SQLite3 Microsoft.GSL::GSL
  PkgConfig::SODIUM PkgConfig::ZSTD PkgConfig::PQ PkgConfig::CRYPTO Threads::Threads)
