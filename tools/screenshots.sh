#!/usr/bin/env bash
# Regenerate docs/img/report-*.png: the demo's HTML report in headless Chromium, three ways (docs/REPORTS.md):
#   report-system-fonts.png  this machine's fonts (fonts-noto-cjk here)
#   report-shipped-font.png  a fontconfig whose only <dir> is the PyPI package's Noto Sans SC folder
#   report-no-cjk-font.png   a fontconfig with matplotlib's DejaVu fonts only (no CJK font at all)
# The charts are PNGs drawn with the shipped font and the HTML text uses the report's own embedded subset of it
# (an @font-face data URL, indexer/font_embed.py), so all three read the same, even with no CJK font at all.
# Usage: tools/screenshots.sh [REPORT.html]   (without one, runs `trendcart demo` into a temporary folder)
# Needs: .venv (pip install -e .), /usr/bin/chromium (apt-get install chromium). Env: PYTHON, CHROMIUM, WIDTH, HEIGHT.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
WIDTH=${WIDTH:-1200}
HEIGHT=${HEIGHT:-2400}
out=docs/img
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

report=${1:-}
if [ -z "$report" ]; then
    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    "$PYTHON" -m search_cli demo --out-dir "$work/demo" >"$work/demo.log" 2>&1 || {
        tail -20 "$work/demo.log" >&2
        exit 1
    }
    report="$work/demo/demo-report.html"
fi
report=$(realpath "$report")

shipped_dir=$("$PYTHON" -c 'from indexer.fonts import shipped_font_dir; print(shipped_font_dir() or "")')
dejavu_dir=$("$PYTHON" -c 'import matplotlib, os; print(os.path.join(matplotlib.get_data_path(), "fonts", "ttf"))')
[ -n "$shipped_dir" ] || { echo "the shipped CJK font is not installed (pip install -e .)" >&2; exit 1; }

fontconfig() { # fontconfig FILE DIR: a fontconfig file whose only font folder is DIR
    cat >"$1" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>$2</dir>
  <cachedir>$work/fc-cache-$(basename "$1" .conf)</cachedir>
</fontconfig>
EOF
}
fontconfig "$work/shipped.conf" "$shipped_dir"
fontconfig "$work/no-cjk.conf" "$dejavu_dir"

shot() { # shot NAME [FONTCONFIG_FILE]
    local name=$1 conf=${2:-}
    local profile="$work/profile-$name"
    local env=()
    [ -n "$conf" ] && env=(FONTCONFIG_FILE="$conf")
    env "${env[@]}" "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
        --user-data-dir="$profile" --window-size="$WIDTH,$HEIGHT" --screenshot="$out/$name.png" \
        "file://$report" >"$work/chromium-$name.log" 2>&1 || {
        tail -20 "$work/chromium-$name.log" >&2
        exit 1
    }
    echo "$out/$name.png"
}
shot report-system-fonts
shot report-shipped-font "$work/shipped.conf"
shot report-no-cjk-font "$work/no-cjk.conf"
