# DNS engine tests: a C responder scripted per name (dns_fake.c) on loopback, and the
# benchmark driver (dns_bench, an executable, not a test).
add_executable(scanner_dns_test dns_test.c dns_fake.c)
target_link_libraries(scanner_dns_test PRIVATE mts_scanner mts_check)
add_test(NAME scanner_dns_engine COMMAND scanner_dns_test)
set_tests_properties(scanner_dns_engine PROPERTIES TIMEOUT 300)

add_executable(dns_bench dns_bench.c)
target_link_libraries(dns_bench PRIVATE mts_scanner)

add_executable(scanner_json_text_test json_text_test.c)
target_link_libraries(scanner_json_text_test PRIVATE mts_scanner mts_check)
add_test(NAME scanner_json_text COMMAND scanner_json_text_test)
