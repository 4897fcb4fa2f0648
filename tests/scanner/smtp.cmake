# Tests of the SMTP prober, the TLS observation helper, the connection limiter and the
# MX-probe cache. Certificates are made at test time (fixture scanner_tls_certs) with the
# openssl CLI; the SMTP test runs a scripted server (smtp_fake_server.py) on loopback.
set(MTS_SMTP_TEST_CERTS ${CMAKE_CURRENT_BINARY_DIR}/smtp-certs)

add_test(NAME scanner_tls_certs
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tls_make_certs.sh ${MTS_SMTP_TEST_CERTS})
set_tests_properties(scanner_tls_certs PROPERTIES FIXTURES_SETUP mts_smtp_certs)

add_executable(tls_observe_test ${CMAKE_CURRENT_SOURCE_DIR}/tls_observe_test.c)
target_link_libraries(tls_observe_test PRIVATE mts_scanner mts_check)
add_test(NAME scanner_tls_observe COMMAND tls_observe_test ${MTS_SMTP_TEST_CERTS})
set_tests_properties(scanner_tls_observe PROPERTIES FIXTURES_REQUIRED mts_smtp_certs)

add_executable(connlimit_test ${CMAKE_CURRENT_SOURCE_DIR}/connlimit_test.c)
target_link_libraries(connlimit_test PRIVATE mts_scanner mts_check)
add_test(NAME scanner_connlimit COMMAND connlimit_test)

add_executable(smtp_probe_test ${CMAKE_CURRENT_SOURCE_DIR}/smtp_probe_test.c)
target_link_libraries(smtp_probe_test PRIVATE mts_scanner mts_util mts_check)
add_test(NAME scanner_smtp_probe
  COMMAND smtp_probe_test ${CMAKE_CURRENT_SOURCE_DIR}/smtp_fake_server.py ${MTS_SMTP_TEST_CERTS})
set_tests_properties(scanner_smtp_probe PROPERTIES FIXTURES_REQUIRED mts_smtp_certs TIMEOUT 120)
