# SMTP STARTTLS prober and the pieces it shares with the HTTPS fetcher: the TLS observation
# helper and the per-destination connection limiter.
list(APPEND MTS_SCANNER_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/tls_observe.c
  ${CMAKE_CURRENT_LIST_DIR}/conn_limit.c
  ${CMAKE_CURRENT_LIST_DIR}/smtp_probe.c
  ${CMAKE_CURRENT_LIST_DIR}/mxprobe_cache.c)
