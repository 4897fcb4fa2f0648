# The pipeline's helpers: the TLS-RPT destinations read off a record.
add_executable(scanner_tlsrpt_rua_test ${CMAKE_CURRENT_SOURCE_DIR}/tlsrpt_rua_test.c)
target_link_libraries(scanner_tlsrpt_rua_test PRIVATE mts_scanner mts_check)
add_test(NAME scanner_tlsrpt_rua COMMAND scanner_tlsrpt_rua_test)

# The domain record writer (scanner/domain_record.c).
add_executable(scanner_domain_record_test ${CMAKE_CURRENT_SOURCE_DIR}/domain_record_test.c)
target_link_libraries(scanner_domain_record_test PRIVATE mts_scanner mts_check)
add_test(NAME scanner_domain_record COMMAND scanner_domain_record_test)
