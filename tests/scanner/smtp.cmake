# Tests of the SMTP prober, the TLS observation helper and the connection limiter.
# Certificates are made at test time (fixture scanner_tls_certs) with the openssl CLI.
set(MTS_SMTP_TEST_CERTS ${CMAKE_CURRENT_BINARY_DIR}/smtp-certs)
set(MTS_SMTP_TEST_SOURCES
  ${PROJECT_SOURCE_DIR}/scanner/tls_observe.c
  ${PROJECT_SOURCE_DIR}/scanner/conn_limit.c
  ${PROJECT_SOURCE_DIR}/scanner/smtp_probe.c
  ${PROJECT_SOURCE_DIR}/scanner/mxprobe_cache.c)
add_library(mts_smtp_testlib STATIC ${MTS_SMTP_TEST_SOURCES})
target_include_directories(mts_smtp_testlib PUBLIC ${PROJECT_SOURCE_DIR}/scanner)
target_link_libraries(mts_smtp_testlib PUBLIC PkgConfig::LIBEVENT PkgConfig::OPENSSL
  PkgConfig::JANSSON Threads::Threads m)

add_test(NAME scanner_tls_certs
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tls_make_certs.sh ${MTS_SMTP_TEST_CERTS})
set_tests_properties(scanner_tls_certs PROPERTIES FIXTURES_SETUP mts_smtp_certs)

add_executable(tls_observe_test ${CMAKE_CURRENT_SOURCE_DIR}/tls_observe_test.c)
target_link_libraries(tls_observe_test PRIVATE mts_smtp_testlib mts_check)
add_test(NAME scanner_tls_observe COMMAND tls_observe_test ${MTS_SMTP_TEST_CERTS})
set_tests_properties(scanner_tls_observe PROPERTIES FIXTURES_REQUIRED mts_smtp_certs)

add_executable(connlimit_test ${CMAKE_CURRENT_SOURCE_DIR}/connlimit_test.c)
target_link_libraries(connlimit_test PRIVATE mts_smtp_testlib mts_check)
add_test(NAME scanner_connlimit COMMAND connlimit_test)

add_executable(smtp_probe_test ${CMAKE_CURRENT_SOURCE_DIR}/smtp_probe_test.c)
target_link_libraries(smtp_probe_test PRIVATE mts_smtp_testlib mts_check)
add_test(NAME scanner_smtp_probe
  COMMAND smtp_probe_test ${CMAKE_CURRENT_SOURCE_DIR}/smtp_fake_server.py ${MTS_SMTP_TEST_CERTS})
set_tests_properties(scanner_smtp_probe PROPERTIES FIXTURES_REQUIRED mts_smtp_certs TIMEOUT 120)
