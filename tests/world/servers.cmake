# The TLS side of the simulated Internet: the test CA, the HTTPS policy-host server and the
# SMTP MX server (in world_core, started by mtasts-world), the certificate writer used by
# the real-server fixture, and their tests. Included from tests/world/CMakeLists.txt.
target_sources(world_core PRIVATE ca.c https_server.c smtp_server.c)
find_package(ZLIB REQUIRED)
target_link_libraries(world_core PRIVATE ZLIB::ZLIB)

add_executable(world-mkcert mkcert.c)
target_link_libraries(world-mkcert PRIVATE world_core)

add_executable(world_test_ca test_ca.c)
target_link_libraries(world_test_ca PRIVATE world_core mts_check)
add_test(NAME world_ca_mint COMMAND world_test_ca)

# Shell tests: each starts its own mtasts-world on free ports (port 0 + ready file), so
# they run in parallel with everything else.
set(_world_servers_env
    WORLD_BIN=$<TARGET_FILE:mtasts-world> WORLD_MKCERT=$<TARGET_FILE:world-mkcert>
    WORLD_SCENARIOS=${CMAKE_CURRENT_SOURCE_DIR}/scenarios)
foreach(_t https smtp)
  add_test(NAME world_${_t}_behaviours COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_${_t}.sh)
  set_tests_properties(world_${_t}_behaviours PROPERTIES ENVIRONMENT "${_world_servers_env}"
                                                         TIMEOUT 120)
endforeach()
add_test(NAME world_realservers_fixture
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_realservers.sh
                 ${CMAKE_CURRENT_SOURCE_DIR}/realservers.sh)
set_tests_properties(world_realservers_fixture PROPERTIES ENVIRONMENT "${_world_servers_env}"
                                                          TIMEOUT 120)
