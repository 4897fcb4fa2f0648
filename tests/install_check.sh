#!/usr/bin/env bash
# ctest install_tree: `cmake --install` into a scratch root (DESTDIR) puts the programs, man
# pages, completions, docs and shard recipes in place; the installed programs run, the man
# pages render without a warning, the completions load and complete.
# usage: install_check.sh BUILD_DIR
set -u
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fails=0
check() { # what, command...
    local what=$1
    shift
    if ! "$@"; then
        echo "FAIL: $what"
        fails=$((fails + 1))
    fi
}

DESTDIR=$root cmake --install "$build" --prefix /usr >"$root.log" 2>&1 ||
    { cat "$root.log"; rm -f "$root.log"; echo "FAIL: cmake --install"; exit 1; }
rm -f "$root.log"
u=$root/usr
for f in bin/mtasts-scan bin/mtasts-analyze bin/mtasts-check share/man/man1/mtasts-scan.1 \
    share/man/man1/mtasts-check.1 share/bash-completion/completions/mtasts-check \
    share/man/man1/mtasts-analyze.1 share/bash-completion/completions/mtasts-scan \
    share/bash-completion/completions/mtasts-analyze share/doc/mtasts-scan/README.md \
    share/doc/mtasts-scan/vocabulary.md share/doc/mtasts-scan/real-scan.md \
    share/mtasts-scan/shard/parallel.sh share/mtasts-scan/shard/slurm-array.sbatch \
    share/mtasts-scan/shard/k8s-indexed-job.yaml; do
    check "installed $f" test -s "$u/$f"
done
check "parallel.sh is executable" test -x "$u/share/mtasts-scan/shard/parallel.sh"

version=$(sed -n 's/^project(mtasts-scan VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../CMakeLists.txt")
check "installed mtasts-scan --version" \
    bash -c '[[ $("$1" --version) == "mtasts-scan $2 ("* ]]' _ "$u/bin/mtasts-scan" "$version"
check "installed mtasts-analyze --version" \
    test "$("$u/bin/mtasts-analyze" --version)" = "mtasts-analyze $version"
check "installed mtasts-check --version" \
    test "$("$u/bin/mtasts-check" --version)" = "mtasts-check $version"

# man -l with warnings on, as lintian runs it: any output on stderr is a defect
for page in mtasts-scan mtasts-analyze mtasts-check; do
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
        man --warnings -E UTF-8 -l -Tutf8 -Z "$u/share/man/man1/$page.1" 2>&1 >/dev/null)
    check "man page $page renders without warnings: $warnings" test -z "$warnings"
    check "man page $page has a NAME" \
        bash -c 'MANWIDTH=80 man -l "$1" 2>/dev/null | grep -q "^NAME"' _ "$u/share/man/man1/$page.1"
done

# every option of --help is in the man page, and in the completion
for opt in $("$u/bin/mtasts-scan" --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
    check "mtasts-scan(1) documents $opt" grep -qF -- "\\-${opt#--}" "$u/share/man/man1/mtasts-scan.1"
    check "completion offers $opt" grep -q -- "$opt" "$u/share/bash-completion/completions/mtasts-scan"
done

# the completions load and complete (bash-completion's helpers when installed)
if [ -f /usr/share/bash-completion/bash_completion ]; then
    got=$(PATH=$u/bin:$PATH bash -c '
        . /usr/share/bash-completion/bash_completion
        . "$1/share/bash-completion/completions/mtasts-analyze"
        COMP_WORDS=(mtasts-analyze sc); COMP_CWORD=1; COMP_LINE="mtasts-analyze sc"
        COMP_POINT=${#COMP_LINE}; _mtasts_analyze; echo "${COMPREPLY[*]}"
        COMP_WORDS=(mtasts-analyze domains --category sts-webpki-invalid/ex); COMP_CWORD=3
        COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; _mtasts_analyze
        echo "${COMPREPLY[*]}"' _ "$u")
    check "completion: $got" test "$got" = "scans
sts-webpki-invalid/expired"
else
    check "completions parse" bash -n "$u/share/bash-completion/completions/mtasts-analyze"
fi
echo "install_check: $fails failures"
[ "$fails" -eq 0 ]
