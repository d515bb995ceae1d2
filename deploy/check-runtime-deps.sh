#!/usr/bin/env bash
# Checks that the runtime image of deploy/Dockerfile installs every shared library BINARY
# loads: reads the package list between the "BEGIN runtime packages" and "END runtime
# packages" markers of the Dockerfile, maps each library `ldd BINARY` resolves to its
# Debian package (dpkg -S), and fails naming every library whose package is not listed,
# and every library ldd cannot find. The C/C++ runtime every Debian image has (libc6,
# libgcc-s1, libstdc++6) and the sanitizer runtimes of test builds (libasan8, libubsan1)
# need no listing. Run it on a Debian 12 machine where BINARY runs (the build stage of the
# Dockerfile runs it on the binary it built).
#
# Usage: deploy/check-runtime-deps.sh BINARY [DOCKERFILE]
# Exit status: 0 every library is covered, 1 some are not, 2 bad usage or a tool failed.
set -euo pipefail

usage() {
  echo "usage: $0 BINARY [DOCKERFILE]  (DOCKERFILE: deploy/Dockerfile beside this script)" >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
binary=$1
dockerfile=${2:-"$(dirname "$0")/Dockerfile"}
[ -f "$binary" ] || { echo "check-runtime-deps: no such file: $binary" >&2; exit 2; }
[ -f "$dockerfile" ] || { echo "check-runtime-deps: no such file: $dockerfile" >&2; exit 2; }
for tool in ldd dpkg; do
  command -v "$tool" >/dev/null || { echo "check-runtime-deps: $tool is missing" >&2; exit 2; }
done

# Packages every Debian image has, or that only test builds need.
always_there=(libc6 libgcc-s1 libstdc++6 libasan8 libubsan1)

# The list: the words between the markers, less the ARG keyword, quotes, line
# continuations and comments.
listed_text=$(sed -n '/^# BEGIN runtime packages/,/^# END runtime packages/p' "$dockerfile" |
  sed -e '/^[[:space:]]*#/d' -e 's/#.*//' -e 's/^[[:space:]]*ARG[[:space:]]*RUNTIME_PACKAGES=//' \
      -e 's/["\\]/ /g')
listed=()
read -r -d '' -a listed <<<"$listed_text" || true  # every word of every line
if [ ${#listed[@]} -eq 0 ]; then
  echo "check-runtime-deps: no package list between '# BEGIN runtime packages' and" \
       "'# END runtime packages' in $dockerfile" >&2
  exit 2
fi
for p in "${listed[@]}"; do
  if ! [[ $p =~ ^[a-z0-9][a-z0-9.+-]+$ ]]; then
    echo "check-runtime-deps: '$p' in $dockerfile's list is not a package name" >&2
    exit 2
  fi
done

in_list() {
  local want=$1 p
  for p in "${listed[@]}" "${always_there[@]}"; do
    [ "$p" = "$want" ] && return 0
  done
  return 1
}

# The package owning `path`: dpkg knows each file under one name, /lib or /usr/lib
# (merged /usr), and a symlink (alternatives: libblas.so.3) under its target's.
owner_of() {
  local path=$1 candidate out
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    [ -n "$candidate" ] || continue
    if out=$(dpkg -S "$candidate" 2>/dev/null); then
      # "libfoo1:amd64: /usr/lib/..." or "pkg-a, pkg-b: /path"; diversions say "diversion by".
      out=$(grep -v '^diversion by' <<<"$out" | head -n 1)
      out=${out%%: *}
      out=${out%%,*}
      echo "${out%%:*}"
      return 0
    fi
  done
  return 1
}

if ! ldd_out=$(ldd "$binary" 2>&1); then
  echo "check-runtime-deps: ldd $binary failed: $ldd_out" >&2
  exit 2
fi

missing=()
declare -A used=()
libraries=0
while read -r line; do
  lib='' path=''
  case $line in
    *"=> not found"*)
      missing+=("${line%% *} (not found by ldd)")
      continue ;;
    *" => /"*)
      lib=${line%% *}
      path=${line#* => }
      path=${path%% (*} ;;
    /*)
      path=${line%% (*}
      lib=$path ;;
    *) continue ;;  # linux-vdso.so.1 and the like: no file
  esac
  libraries=$((libraries + 1))
  if ! pkg=$(owner_of "$path"); then
    missing+=("$lib ($path belongs to no Debian package)")
    continue
  fi
  used[$pkg]=1
  in_list "$pkg" || missing+=("$lib ($path, package $pkg)")
done <<<"$ldd_out"

if [ ${#missing[@]} -gt 0 ]; then
  echo "check-runtime-deps: $binary loads libraries that $dockerfile does not install:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "add their packages between '# BEGIN runtime packages' and '# END runtime packages'" >&2
  exit 1
fi

extra=()
for p in "${listed[@]}"; do
  [ -n "${used[$p]+x}" ] || extra+=("$p")
done
echo "check-runtime-deps: ok: $libraries libraries of $binary from $((${#used[@]})) packages," \
     "all installed by $dockerfile (${#listed[@]} listed; not libraries of the binary:" \
     "${extra[*]:-none})"
