# mtasts-analyze: commands, aggregation, reports, diff, exports (docs/analyze.md).
add_executable(mtasts-analyze
  main.c scanset.c aggregate.c report_text.c report_markdown.c report_html.c diff.c export.c
  explain.c text_safe.c malloc_conf.c)
target_link_libraries(mtasts-analyze PRIVATE mts_analysis mts_output PkgConfig::PSL PkgConfig::OPENSSL
                                             Threads::Threads m)
