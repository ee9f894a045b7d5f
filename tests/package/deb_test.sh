#!/usr/bin/env bash
# The .deb as a user gets it: cpack builds it from BUILD_DIR; its contents (binaries, presets,
# .desktop entry, icon) and dependencies are checked; it is unpacked into a scratch root, where
# drmm must find the presets beside itself (not in the source tree) and drmm-studio must start.
#   tests/package/deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$scratch/out" > "$scratch/cpack.log" 2>&1) || { cat "$scratch/cpack.log"; fail "cpack failed"; }
deb=$(ls "$scratch"/out/*.deb)
echo "deb_test: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
dpkg-deb -c "$deb" | awk '{print $6}' > "$scratch/contents"
for f in ./usr/bin/drmm ./usr/bin/drmm-studio ./usr/share/applications/drmm-studio.desktop \
         ./usr/share/icons/hicolor/scalable/apps/drmm-studio.svg ./usr/share/drmm-studio/presets/tiny.json \
         ./usr/share/drmm-studio/presets/convsmall.json ./usr/share/drmm-studio/presets/convlarge.json; do
  grep -qx "$f" "$scratch/contents" || fail "the package lacks $f"
done
if grep -q "_tests$" "$scratch/contents"; then fail "the package holds test binaries"; fi
depends=$(dpkg-deb -f "$deb" Depends)
echo "deb_test: Depends: $depends"
for needed in libqt6widgets6 libqt6opengl6 libvulkan1 libpng16-16 libprotobuf32 libonnx1 fonts-dejavu-core; do
  grep -q "$needed" <<<"$depends" || fail "Depends lacks $needed"
done

root=$scratch/root
dpkg-deb -x "$deb" "$root"
# A preset only the unpacked copy has: listed only if drmm reads the presets beside itself.
cp "$root/usr/share/drmm-studio/presets/tiny.json" "$root/usr/share/drmm-studio/presets/only-in-the-package.json"
env -u DRMM_ASSETS_DIR "$root/usr/bin/drmm" --version
env -u DRMM_ASSETS_DIR "$root/usr/bin/drmm" data info synthetic > "$scratch/info.txt"
grep -q "only-in-the-package" "$scratch/info.txt" || { cat "$scratch/info.txt"; fail "drmm did not read the installed presets"; }
# The studio starts from the package and quits by itself (a private settings folder).
XDG_CONFIG_HOME=$scratch/config XDG_DATA_HOME=$scratch/data \
  xvfb-run -a -s "-screen 0 1024x768x24" env -u DRMM_ASSETS_DIR "$root/usr/bin/drmm-studio" --dataset synthetic --exit-after 6 \
  > "$scratch/studio.log" 2>&1 || { cat "$scratch/studio.log"; fail "drmm-studio from the package did not start and quit cleanly"; }
echo "deb_test: installs into a scratch root, finds its presets, and the studio starts"
