# Finding Pythons 3.11+ on the machine: sourced by scripts/setup.sh (which takes the newest),
# scripts/smoke_python.sh (the oldest other) and tests/deploy/test_setup_python.py.

# The version of a Python 3.11+ ("3.13"), or a failure for anything else (a pyenv shim of a version that
# is not selected fails here, as it should).
supported_version() {
    "$1" -c 'import sys; v = sys.version_info; sys.exit(1) if v < (3, 11) else print("%d.%d" % v[:2])' 2>/dev/null
}
# Every Python 3.11+ on the machine, a "version path" line each, in the order found: python3 and python3.N
# on PATH, then pyenv's builds. scripts/smoke_python.sh picks from the same list.
supported_pythons() {
    local candidate version
    local candidates=(python3 $(compgen -c python3. | grep -E '^python3\.[0-9]+$' | sort -u))
    if command -v pyenv >/dev/null; then
        candidates+=("$(pyenv root)"/versions/*/bin/python3)
    fi
    for candidate in "${candidates[@]}"; do
        version=$(supported_version "$candidate") || continue
        echo "$version $(command -v "$candidate")"
    done
}
# The newest of them (the first found, of several of one version).
newest_python() {
    local line
    line=$(supported_pythons | sort -s -k1,1Vr | head -1)
    [ -n "$line" ] && echo "${line#* }"
}
