# sst.cmake: the SingleStepTests 80286 real-mode suite run by tools/anyvm-sst (with the skip
# list tests/cpu/sst-skip.txt). Registered only when the data is present beside the repository.
set(ANYVM_SST_DIR ${CMAKE_SOURCE_DIR}/../shared/cpu-tests/80286-real)
if(EXISTS ${ANYVM_SST_DIR})
  add_test(NAME cpu/sst-80286-real
           COMMAND anyvm-sst --skip ${CMAKE_CURRENT_LIST_DIR}/sst-skip.txt ${ANYVM_SST_DIR})
  set_tests_properties(cpu/sst-80286-real PROPERTIES LABELS "quick;cpu" TIMEOUT 600)
  # The same suite under the JIT, and under the JIT in lockstep with the interpreter.
  add_test(NAME cpu/sst-80286-real-jit
           COMMAND anyvm-sst --accel jit --skip ${CMAKE_CURRENT_LIST_DIR}/sst-skip.txt
                   ${ANYVM_SST_DIR})
  add_test(NAME cpu/sst-80286-real-jit-verify
           COMMAND anyvm-sst --accel jit,verify=on --skip ${CMAKE_CURRENT_LIST_DIR}/sst-skip.txt
                   ${ANYVM_SST_DIR})
  set_tests_properties(cpu/sst-80286-real-jit cpu/sst-80286-real-jit-verify
                       PROPERTIES LABELS "quick;cpu;jit" TIMEOUT 600)
endif()
