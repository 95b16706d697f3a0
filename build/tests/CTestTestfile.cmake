# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[unit]=] "/work/main/build/tests/spr_unit_tests")
set_tests_properties([=[unit]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;15;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[capi_includes_only_public_headers]=] "sh" "-c" "! grep -nE '#include \"(\\.\\./)?src/|#include \"[a-z_]+_internal\\.hpp\"|#include \"(json|crypto|sqlite_backend)\\.hpp\"' /work/main/capi/*.cpp /work/main/capi/*.h")
set_tests_properties([=[capi_includes_only_public_headers]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;46;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[exported_symbols_are_api_only]=] "sh" "-c" "nm -D --defined-only -C /work/main/build/libspinner_rollback.so.0.1.0 | awk '{ \$1=\"\"; \$2=\"\"; sub(/^  /, \"\"); print }' | grep -vE '^(spr_|spinner_rollback::|typeinfo (name )?for spinner_rollback::|vtable for spinner_rollback::)' | grep -v '^\$' | (! grep .)")
set_tests_properties([=[exported_symbols_are_api_only]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;49;add_test;/work/main/tests/CMakeLists.txt;0;")
