# carehub_warnings(target): the project's warning set; third-party headers come in as SYSTEM.
function(carehub_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(CAREHUB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
