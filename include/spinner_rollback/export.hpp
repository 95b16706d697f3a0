/// @file export.hpp
/// @brief Symbol visibility for the public API.
///
/// Everything not marked SPR_API is hidden in the shared library.
#pragma once

/// @def SPR_API
/// Marks a class or function of the public C++ API as exported from the
/// shared library (default visibility). Empty when `SPR_STATIC_DEFINE` is
/// defined (static library). @since 0.1

#if defined(SPR_STATIC_DEFINE)
#define SPR_API
#elif defined(SPR_BUILDING_LIBRARY)
#define SPR_API __attribute__((visibility("default")))
#else
#define SPR_API __attribute__((visibility("default")))
#endif
