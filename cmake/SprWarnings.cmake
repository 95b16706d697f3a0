# Warning flags for our own targets only (PRIVATE; never leak to consumers).
add_library(spr_warnings INTERFACE)
target_compile_options(spr_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
   # GCC 12 reports false positives inside libstdc++ for these (GCC bugs 105329, 105651).
   -Wno-restrict>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic>)
