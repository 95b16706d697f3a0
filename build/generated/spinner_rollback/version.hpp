// Generated from CMakeLists.txt project(VERSION ...). Do not edit.
#pragma once

/// @file version.hpp
/// @brief Compile-time version of the spinner_rollback headers.

#define SPR_VERSION_MAJOR 0
#define SPR_VERSION_MINOR 1
#define SPR_VERSION_PATCH 0
#define SPR_VERSION_STRING "0.1.0"
#define SPR_SOVERSION 0
