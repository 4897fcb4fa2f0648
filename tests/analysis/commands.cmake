# mtasts-analyze end to end: a fixture writes stores through the real writer, then
# analyze_cli.sh runs every command and checks exact outputs (ctest names analyze_*).
add_executable(analyze_fixture analyze_fixture.c)
target_link_libraries(analyze_fixture PRIVATE mts_output PkgConfig::OPENSSL)

add_executable(analyze_bench_gen analyze_bench_gen.c)
target_link_libraries(analyze_bench_gen PRIVATE mts_output PkgConfig::OPENSSL)

mts_add_test(analyze_cli
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/analyze_cli.sh $<TARGET_FILE:mtasts-analyze>
                     $<TARGET_FILE:analyze_fixture>)
mts_add_test(analyze_disclose
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/disclose_cli.sh $<TARGET_FILE:mtasts-analyze>
                     $<TARGET_FILE:analyze_fixture>)
mts_add_test(analyze_html
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/analyze_html.sh $<TARGET_FILE:mtasts-analyze>
                     $<TARGET_FILE:analyze_fixture>
             SKIP_RETURN_CODE 77 TIMEOUT 120)
mts_add_test(analyze_hostile
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/analyze_hostile.sh $<TARGET_FILE:mtasts-analyze>
                     $<TARGET_FILE:analyze_fixture> ${PROJECT_SOURCE_DIR})

# The threaded walk of the stores (analysis/scanset.c, part of mtasts-analyze).
add_executable(test_analysis_scanset test_scanset.c)
target_link_libraries(test_analysis_scanset PRIVATE mts_analyze_view mts_check PkgConfig::OPENSSL)
mts_add_test(analysis_scanset COMMAND test_analysis_scanset)

# Which sets of stores are one scan: shards, and the two stages of a two-stage scan.
add_executable(test_analysis_scanset_select test_scanset_select.c)
target_link_libraries(test_analysis_scanset_select PRIVATE mts_analyze_view mts_check
                                                           PkgConfig::OPENSSL)
mts_add_test(analysis_scanset_select COMMAND test_analysis_scanset_select)

# The terminal-safe escaping of every text output (analysis/text_safe.c).
add_executable(test_analysis_text_safe test_text_safe.c)
target_link_libraries(test_analysis_text_safe PRIVATE mts_analyze_view mts_check)
mts_add_test(analysis_text_safe COMMAND test_analysis_text_safe)

# Every output byte for byte against tests/analysis/golden/ (analyze_golden.sh says how to
# regenerate them when an output is meant to change).
mts_add_test(analyze_golden
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/analyze_golden.sh $<TARGET_FILE:mtasts-analyze>
                     $<TARGET_FILE:analyze_fixture> $<TARGET_FILE:analyze_bench_gen>
                     ${CMAKE_CURRENT_SOURCE_DIR}/golden)
