# Warning flags for our own targets only (PRIVATE; never leak to consumers).
add_library(spr_warnings INTERFACE)
target_compile_options(spr_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wnull-dereference>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic>)
