# carehub_warnings(target): the project's warning set; third-party headers come in as SYSTEM.
function(carehub_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 at -O2/-O3 reports std::string operator+ as overlapping memcpy (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(CAREHUB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
