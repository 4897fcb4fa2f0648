# mtasts-analyze: commands, aggregation, reports, diff, exports (docs/analyze.md).
# mts_analyze_view: reading a scan's stores and showing one domain (export object, explain
# view), shared with mtasts-check (check/).
add_library(mts_analyze_view STATIC scanset.c workpool.c export.c explain.c text_safe.c)
target_include_directories(mts_analyze_view PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}
                                            PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/internal)
target_link_libraries(mts_analyze_view PUBLIC mts_analysis mts_output Threads::Threads)

add_executable(mtasts-analyze
  main.c aggregate.c report_text.c report_markdown.c report_html.c diff.c disclose.c
  malloc_conf.c)
target_include_directories(mtasts-analyze PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/internal)
target_link_libraries(mtasts-analyze PRIVATE mts_analyze_view mts_analysis mts_output mts_inputs
                                             PkgConfig::PSL PkgConfig::OPENSSL Threads::Threads m)
