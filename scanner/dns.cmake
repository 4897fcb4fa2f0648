# The asynchronous DNS engine (docs/dns-engine.md).
list(APPEND MTS_SCANNER_SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/dns_engine.c
  ${CMAKE_CURRENT_SOURCE_DIR}/dns_cache.c
  ${CMAKE_CURRENT_SOURCE_DIR}/dns_obs.c
  ${CMAKE_CURRENT_SOURCE_DIR}/dns_reply.c
  ${CMAKE_CURRENT_SOURCE_DIR}/json_text.c
  ${CMAKE_CURRENT_SOURCE_DIR}/dns_resolv.c)
