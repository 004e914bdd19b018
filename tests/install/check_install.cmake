# Installs sparsedense into a fresh prefix, then configures, builds and runs a consumer project that only uses
# find_package(sparsedense CONFIG REQUIRED): its own main.cpp against sparsedense::sparsedense (header-only) and
# against sparsedense::kernels (compiled kernels), and every ```cpp block
# of README.md compiled as it stands (each block is a complete program), so the README cannot drift from the API.
# Run with cmake -P (see tests/CMakeLists.txt).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/readme)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

# README.md's C++ blocks, one file each
file(READ ${SOURCE_DIR}/README.md readme)
set(readme_sources "")
set(index 0)
while(TRUE)
  string(FIND "${readme}" "```cpp\n" open)
  if(open EQUAL -1)
    break()
  endif()
  math(EXPR body "${open} + 7")
  string(SUBSTRING "${readme}" ${body} -1 readme)
  string(FIND "${readme}" "\n```" close)
  if(close EQUAL -1)
    message(FATAL_ERROR "README.md: a ```cpp block is not closed")
  endif()
  string(SUBSTRING "${readme}" 0 ${close} code)
  math(EXPR index "${index} + 1")
  file(WRITE ${WORK_DIR}/readme/readme_block_${index}.cpp "${code}\n")
  list(APPEND readme_sources ${WORK_DIR}/readme/readme_block_${index}.cpp)
  string(SUBSTRING "${readme}" ${close} -1 readme)
endwhile()
if(index EQUAL 0)
  message(FATAL_ERROR "README.md has no ```cpp block to check")
endif()
message(STATUS "README.md: ${index} C++ block(s) to compile and run")

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib-build -G ${GENERATOR} -DSPARSEDENSE_BUILD_TESTS=OFF
    -DSPARSEDENSE_BUILD_BENCHMARKS=OFF -DSPARSEDENSE_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/lib-build)  # the optional compiled-kernels library
run(${CMAKE_COMMAND} --install ${WORK_DIR}/lib-build)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/consumer-build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release "-DREADME_SOURCES=${readme_sources}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run(${WORK_DIR}/consumer-build/consumer)
run(${WORK_DIR}/consumer-build/consumer_compiled_kernels)
foreach(i RANGE 1 ${index})
  # run in the work folder: README examples may write files
  execute_process(COMMAND ${WORK_DIR}/consumer-build/readme_block_${i} WORKING_DIRECTORY ${WORK_DIR}/readme
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "README.md C++ block ${i} exited with ${rc}:\n${out}\n${err}")
  endif()
  message(STATUS "README.md C++ block ${i}:\n${out}")
endforeach()
message(STATUS "installed package consumed successfully; README.md's ${index} C++ block(s) compile and run")
