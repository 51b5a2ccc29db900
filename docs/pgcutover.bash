# bash completion for pgcutover                        -*- shell-script -*-
_pgcutover()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local words=("${COMP_WORDS[@]}")

    local commands="check copy follow status switchover verify cleanup migrate ddl-capture"
    local common="--source --target --json --dry-run --verbose --quiet --log-json --config --help --version --slot"
    local opts="$common"
    local cmd w
    for w in "${words[@]:1:COMP_CWORD-1}"; do
        case " $commands " in *" $w "*) cmd=$w; break ;; esac
    done
    case $cmd in
        check) opts="$opts --allow-nonempty-target --include-schema --exclude-schema --include-table --exclude-table --pg-bin-dir" ;;
        copy) opts="$opts --allow-nonempty-target --jobs --index-jobs --split-threshold --include-schema --exclude-schema --include-table --exclude-table --backup --pg-bin-dir --snapshot-hold --max-rate" ;;
        follow) opts="$opts --until-caught-up --endpos --heartbeat-interval --metrics-listen --metrics-allow-public --ddl --ddl-exclude --resume-after-ddl" ;;
        ddl-capture) [[ $cur != -* ]] && { COMPREPLY=($(compgen -W "install remove status" -- "$cur")); return; } ;;
        status) opts="$opts --wait-lag --timeout --watch" ;;
        switchover) opts="$opts --jobs --max-lag --timeout --fence --fence-command --post-command --sequence-gap --skip-verify --verify --max-rate --abort-on-mismatch --reverse --pgbouncer --pgbouncer-ini --repoint-command --yes" ;;
        verify) opts="$opts --jobs --constraints --online --max-rate --include-schema --exclude-schema --include-table --exclude-table" ;;
        cleanup) opts="$opts --keep-state --yes" ;;
        migrate) opts="$opts --database --switchover --max-lag --timeout --jobs --index-jobs --split-threshold --allow-nonempty-target --fence --fence-command --post-command --sequence-gap --skip-verify --verify --max-rate --abort-on-mismatch --reverse --keep-state --heartbeat-interval --metrics-listen --ddl --ddl-exclude --yes --include-schema --exclude-schema --include-table --exclude-table --backup" ;;
    esac
    case $prev in
        --config|--pg-bin-dir|--pgbouncer-ini) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --backup) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --fence) COMPREPLY=($(compgen -W "default none" -- "$cur")); return ;;
        --verify) COMPREPLY=($(compgen -W "incremental full none" -- "$cur")); return ;;
        --ddl) COMPREPLY=($(compgen -W "apply stop" -- "$cur")); return ;;
    esac
    if [[ -z $cmd && $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$commands help" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
} && complete -F _pgcutover pgcutover
