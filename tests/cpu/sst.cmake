# sst.cmake: the SingleStepTests 80286 real-mode suite run by tools/anyvm-sst (with the skip
# list tests/cpu/sst-skip.txt). Registered only when the data is present beside the repository.
set(ANYVM_SST_DIR ${CMAKE_SOURCE_DIR}/../shared/cpu-tests/80286-real)
if(EXISTS ${ANYVM_SST_DIR})
  add_test(NAME cpu/sst-80286-real
           COMMAND anyvm-sst --skip ${CMAKE_CURRENT_LIST_DIR}/sst-skip.txt ${ANYVM_SST_DIR})
  set_tests_properties(cpu/sst-80286-real PROPERTIES LABELS "quick;cpu" TIMEOUT 600)
endif()
