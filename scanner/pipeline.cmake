# The pipeline and the command line: join the engines into mtasts-scan.
list(APPEND MTS_SCANNER_SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/pipeline.c
  ${CMAKE_CURRENT_SOURCE_DIR}/scan.c
  ${CMAKE_CURRENT_SOURCE_DIR}/domain_record.c
  ${CMAKE_CURRENT_SOURCE_DIR}/addr_policy.c
  ${CMAKE_CURRENT_SOURCE_DIR}/writer_watch.c
  ${CMAKE_CURRENT_SOURCE_DIR}/probe_stage.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tlsrpt_rua.c
  ${CMAKE_CURRENT_SOURCE_DIR}/progress.c)

function(mts_scanner_executables)
  add_executable(mtasts-scan ${CMAKE_CURRENT_SOURCE_DIR}/main.c)
  target_link_libraries(mtasts-scan PRIVATE mts_scanner)
endfunction()
