# What `cmake --install` puts where (GNU layout; debian/ packages the same tree): the three
# programs, their man pages and bash completions, the design pages as documentation and
# the shard recipes under share/mtasts-scan/shard.
include(GNUInstallDirs)

install(TARGETS mtasts-scan mtasts-analyze mtasts-check RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES man/mtasts-scan.1 man/mtasts-analyze.1 man/mtasts-check.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES completion/mtasts-scan completion/mtasts-analyze completion/mtasts-check
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
file(GLOB MTS_DOC_PAGES ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${MTS_DOC_PAGES} DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(PROGRAMS scripts/shard/parallel.sh scripts/shard/slurm-array.sbatch
        DESTINATION ${CMAKE_INSTALL_DATADIR}/mtasts-scan/shard)
install(FILES scripts/shard/k8s-indexed-job.yaml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/mtasts-scan/shard)
