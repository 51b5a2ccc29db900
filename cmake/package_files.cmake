# cmake -P cmake/package_files.cmake, run by the package_files target at
# build time: prepares in OUT_DIR what the install rules take as is,
#   pgcutover.1.gz   the man page, gzip -9n (Debian policy: compressed, and
#                    no name or time stamp in the gzip header: reproducible)
#   pgcutover        the bash completion
#   changelog.gz     scripts/package/changelog, gzip -9n
# MAN_CANDIDATES and COMPLETION_CANDIDATES are ;-lists: the first that exists
# wins, so a page generated into the build tree is preferred to docs/.
foreach(var OUT_DIR MAN_CANDIDATES COMPLETION_CANDIDATES CHANGELOG)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "package_files.cmake: ${var} is not set")
  endif()
endforeach()

function(first_existing out)
  foreach(path ${ARGN})
    if(EXISTS "${path}")
      set(${out} "${path}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "package_files.cmake: none of ${ARGN} exists")
endfunction()

function(gzip_to in out)
  execute_process(COMMAND gzip -9n -c "${in}" OUTPUT_FILE "${out}.tmp" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package_files.cmake: gzip -9n ${in} failed")
  endif()
  file(RENAME "${out}.tmp" "${out}")
endfunction()

file(MAKE_DIRECTORY "${OUT_DIR}")
first_existing(man ${MAN_CANDIDATES})
first_existing(completion ${COMPLETION_CANDIDATES})
gzip_to("${man}" "${OUT_DIR}/pgcutover.1.gz")
gzip_to("${CHANGELOG}" "${OUT_DIR}/changelog.gz")
configure_file("${completion}" "${OUT_DIR}/pgcutover" COPYONLY)
