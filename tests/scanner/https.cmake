# Tests of the HTTPS policy fetcher against a real HTTPS server on loopback
# (https_server.py, /usr/bin/python3 stdlib only), with certificates made at test time by
# the openssl CLI (fixture mts_https_certs). Each ctest case is one group of
# https_fetch_test with its own server. https_bench is a benchmark driver, not a test.
set(MTS_HTTPS_TEST_CERTS ${CMAKE_CURRENT_BINARY_DIR}/https-certs)

add_test(NAME scanner_https_make_certs
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/https_make_certs.sh ${MTS_HTTPS_TEST_CERTS})
set_tests_properties(scanner_https_make_certs PROPERTIES FIXTURES_SETUP mts_https_certs)

add_executable(https_fetch_test ${CMAKE_CURRENT_SOURCE_DIR}/https_fetch_test.c)
target_link_libraries(https_fetch_test PRIVATE mts_scanner mts_check)
foreach(group basic certs concurrency nodns cancel coding handshake ruatls hostile limits)
  add_test(NAME scanner_https_${group}
    COMMAND https_fetch_test ${MTS_HTTPS_TEST_CERTS}
      ${CMAKE_CURRENT_SOURCE_DIR}/https_server.py ${group})
  set_tests_properties(scanner_https_${group} PROPERTIES
    FIXTURES_REQUIRED mts_https_certs TIMEOUT 60)
endforeach()

add_executable(https_bench ${CMAKE_CURRENT_SOURCE_DIR}/https_bench.c)
target_link_libraries(https_bench PRIVATE mts_scanner)
