# shellcheck shell=bash
# Sourced by build_docker.sh and run_docker.sh: print a command as the shell reads it back (--dry-run).

# One argument as the shell reads it back: bare when it is plain, single-quoted otherwise.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

print_command() {
  local quoted=() arg
  for arg in "$@"; do quoted+=("$(quote "$arg")"); done
  echo "${quoted[*]}"
}
