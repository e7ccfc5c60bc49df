#!/usr/bin/env bash
# Checks that stemd(1) and the bash completion keep up with the binary:
# every command of `stemd --help`, every option of every `stemd CMD --help`
# and every exit code it lists, and every key of the README's configuration
# block, must be in the man page (under its own [table] for keys); the man
# page must render without a warning; the completion must offer every
# command, and for each command every one of its options.
set -euo pipefail

binary=${1:?usage: docs_check.sh <stemd> <stemd.1> <completion> <README.md>}
manpage=${2:?}
completion=${3:?}
readme=${4:?}
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

help=$("$binary" --help)
commands=$(awk '/^commands:/ { on = 1; next } on && /^ / { print $1; next } on { exit }' <<<"$help")
codes=$(awk '/^exit codes:/ { on = 1; next } on && /^ +[0-9]+ / { print $1; next } on && /^ / { next } on { exit }' <<<"$help")
[ -n "$commands" ] || fail "no commands found in 'stemd --help'"
[ -n "$codes" ] || fail "no exit codes found in 'stemd --help'"

# The options of one command: the flags at the start of each line of its
# "options:" block ("-c [ --config ] FILE" gives -c and --config).
options_of() {
    "$binary" "$1" --help | awk '/^options:/ { on = 1; next } on && /^$/ { exit }
        on && /^ +-/ { line = $0; sub(/^ +/, "", line)
                       while (match(line, /^(\[ )?-(-[a-z][a-z0-9-]*|[a-z])( \])? ?/)) {
                           flag = substr(line, RSTART, RLENGTH); gsub(/[][ ]/, "", flag)
                           print flag; line = substr(line, RLENGTH + 1) } }'
}

# The man page as a reader sees it: plain ASCII, long lines, no hyphenation.
warnings=$( { man --warnings -l "$manpage" >/dev/null; } 2>&1 || true)
[ -z "$warnings" ] || fail "man --warnings -l $manpage warns:"$'\n'"$warnings"
warnings=$(groff -ww -man -z "$manpage" 2>&1 || true)
[ -z "$warnings" ] || fail "groff -ww -man $manpage warns:"$'\n'"$warnings"
text=$(groff -man -Tascii -P-cbou -rLL=250n -rHY=0 "$manpage" 2>/dev/null)
section() { # the rendered lines from the heading $1 up to the next heading
    awk -v h="$1" 'index($0, h) == 1 || index($0, "   " h) == 1 { on = 1; next }
                   on && (/^[A-Z]/ || /^   [^ ]/) { exit } on' <<<"$text"
}

commands_section=$(section COMMANDS)
for c in $commands; do
    grep -qE "^ +$c( |$)" <<<"$commands_section" || fail "command '$c' is not under COMMANDS in $manpage"
    for o in $(options_of "$c"); do
        grep -qF -- "$o" <<<"$text" || fail "option '$o' of 'stemd $c' is not in $manpage"
    done
done
exit_section=$(section "EXIT STATUS")
for n in $codes; do
    grep -qE "^ +$n( |$)" <<<"$exit_section" || fail "exit code $n is not under EXIT STATUS in $manpage"
done

# Keys: "[table]" headers and "key =" lines of the README's ```toml block
# under "### Configuration".
keys=$(awk '/^### Configuration/ { c = 1 } c && /^```toml/ { on = 1; next } on && /^```/ { exit }
            on && /^\[[a-z0-9_]+\]/ { t = $1; gsub(/[][]/, "", t) }
            on && /^[a-z_]+ *=/ { print t "." $1 }' "$readme")
[ -n "$keys" ] || fail "no configuration keys found in $readme"
for k in $keys; do
    t=${k%%.*}
    grep -qE "^ +${k#*.}( |$)" <<<"$(section "[$t]")" || fail "config key $k is not under [$t] in $manpage"
done

# The completion, called as bash calls it.
source_completion="source '$completion'"
[ -f /usr/share/bash-completion/bash_completion ] &&
    source_completion="source /usr/share/bash-completion/bash_completion; $source_completion"
offered() { # offered WORD... : what the completion offers for the last word
    bash --norc --noprofile -c "$source_completion"'
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _stemd stemd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' bash "$@"
}
first=$(offered stemd "")
for c in $commands; do
    grep -qxF -- "$c" <<<"$first" || fail "bash completion does not offer the command '$c'"
    after=$(offered stemd "$c" -)
    for o in $(options_of "$c"); do
        grep -qxF -- "$o" <<<"$after" || fail "bash completion does not offer '$o' after 'stemd $c'"
    done
done

counts="$(wc -w <<<"$commands") commands, $(wc -w <<<"$keys") config keys, $(wc -w <<<"$codes") exit codes"
if [ "$failures" -ne 0 ]; then
    echo "$failures problem(s) ($counts checked)"
    exit 1
fi
echo "man page and bash completion complete: $counts"
