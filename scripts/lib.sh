# Shared by scripts/up and scripts/test: install what is missing, nothing more.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_debian_packages PKG...: apt-get install the ones not installed yet.
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ensure_venv EXTRA: .venv with the project installed with that extra; re-run
# pip only when pyproject.toml changed since the last install.
ensure_venv() {
  local extra="$1" marker=".venv/.installed-$1"
  if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "Python 3.11 or newer is needed (python3 --version: $(python3 --version 2>&1))" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || {
      ensure_debian_packages python3-venv
      python3 -m venv .venv
    }
  fi
  if [ ! -f "$marker" ] || [ pyproject.toml -nt "$marker" ]; then
    echo "Installing Python packages into .venv ([$extra])..." >&2
    .venv/bin/pip install -q --upgrade pip >/dev/null
    .venv/bin/pip install -q -e ".[$extra]"
    touch "$marker"
  fi
}
