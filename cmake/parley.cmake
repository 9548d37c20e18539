# parley_library(NAME DIR DEPS...): a static library of every .cpp under DIR.
# Files named *_avx2.cpp / *_avx512.cpp / *_amx.cpp are compiled with their ISA's flags (run-time dispatch
# picks them from CPUID); everything else targets baseline x86-64 so one binary runs anywhere.
set(PARLEY_AVX2_FLAGS -mavx2 -mfma -mf16c -mbmi2)
set(PARLEY_AVX512_FLAGS ${PARLEY_AVX2_FLAGS} -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16)
set(PARLEY_AMX_FLAGS ${PARLEY_AVX512_FLAGS} -mamx-tile -mamx-int8)

function(parley_isa_flags)
  foreach(src IN LISTS ARGN)
    if(src MATCHES "_amx\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${PARLEY_AMX_FLAGS}")
    elseif(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${PARLEY_AVX512_FLAGS}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${PARLEY_AVX2_FLAGS}")
    endif()
  endforeach()
endfunction()

function(parley_library name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cpp)
  if(NOT srcs)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${ARGN})
    return()
  endif()
  parley_isa_flags(${srcs})
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

# parley_test(NAME DIR DEPS...): one GoogleTest executable of every .cpp under tests/DIR.
function(parley_test name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${dir}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  parley_isa_flags(${srcs})
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    PARLEY_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared"
    PARLEY_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    PARLEY_BINARY="$<TARGET_FILE:parley>")
  # Tests that start the binary need it built first (the TSan build runs only in-process tests).
  if(NOT PARLEY_TSAN)
    add_dependencies(${name} parley)
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS ${dir} ENVIRONMENT "PARLEY_SHARED_DIR=${CMAKE_SOURCE_DIR}/../shared")
endfunction()
