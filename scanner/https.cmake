# HTTPS policy fetcher: libcurl multi driven by the scanner's libevent loop (curl_loop) and
# the RFC 8461 fetch with its observation (https_fetch). Uses tls_observe and conn_limit,
# which smtp.cmake lists.
list(APPEND MTS_SCANNER_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/curl_loop.c
  ${CMAKE_CURRENT_LIST_DIR}/https_fetch.c)
