# Shared set-up for scripts/run and scripts/test (sourced, not executed).
# Creates .venv and installs the project into it, once per change of pyproject.toml.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  echo ">> installing Debian packages: $*" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_venv EXTRAS: EXTRAS is "" (runtime only) or "dev". One stamp per pyproject.toml and
# extras: a dev install includes the runtime one, so switching between scripts/run and
# scripts/test installs nothing once both have run.
ensure_venv() {
  local extras="$1" spec="." hash
  [ -n "$extras" ] && spec=".[$extras]"
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      apt_install python3-venv
      python3 -m venv .venv
    fi
  fi
  hash="$(sha256sum pyproject.toml | cut -c1-16)"
  if [ -f ".venv/.installed-$hash-dev" ] || [ -f ".venv/.installed-$hash-$extras" ]; then
    return 0
  fi
  echo ">> installing Python dependencies into .venv ($spec)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$spec"
  find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$hash-*" -delete
  touch ".venv/.installed-$hash-$extras"
}

# ensure_node_modules DIR: `npm ci` in DIR (a package.json with its lock), once per lock change.
# Test-only tools (grafana/schema: Grafana's published dashboard types); nothing at run time.
ensure_node_modules() {
  local dir="$1" stamp
  command -v npm >/dev/null || apt_install nodejs npm
  stamp="$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  if [ ! -f "$dir/node_modules/.installed-$stamp" ]; then
    echo ">> installing npm packages into $dir/node_modules" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$dir/node_modules/.installed-$stamp"
  fi
}
