# DNS engine tests: a C responder scripted per name (dns_fake.c) on loopback, and the
# benchmark driver (dns_bench, not a test).
set(MTS_DNS_ENGINE_SOURCES
  ${PROJECT_SOURCE_DIR}/scanner/dns_engine.c
  ${PROJECT_SOURCE_DIR}/scanner/dns_cache.c
  ${PROJECT_SOURCE_DIR}/scanner/dns_obs.c
  ${PROJECT_SOURCE_DIR}/scanner/dns_resolv.c)
add_executable(scanner_dns_test dns_test.c dns_fake.c ${MTS_DNS_ENGINE_SOURCES})
target_include_directories(scanner_dns_test PRIVATE ${PROJECT_SOURCE_DIR}/scanner)
target_link_libraries(scanner_dns_test PRIVATE mts_check
  PkgConfig::LIBEVENT PkgConfig::LDNS PkgConfig::JANSSON)
add_test(NAME scanner_dns_engine COMMAND scanner_dns_test)
set_tests_properties(scanner_dns_engine PROPERTIES TIMEOUT 300)
