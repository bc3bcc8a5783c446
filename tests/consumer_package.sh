#!/usr/bin/env bash
# Installs the built kattn as `make install` does, staged under a scratch DESTDIR, then builds
# and runs examples/consumer against that staged prefix twice: through the CMake package
# (find_package(kattn), the static library) and through pkg-config (kattn.pc, the shared
# library, found at run time through LD_LIBRARY_PATH as an installed one is through ld.so).
#   consumer_package.sh BUILD_DIR SOURCE_DIR INSTALL_PREFIX LIBDIR CXX
set -euo pipefail
build_dir=$1
source_dir=$2
install_prefix=$3
libdir=$4
cxx=$5
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
DESTDIR="$scratch/stage" cmake --install "$build_dir" > /dev/null
prefix="$scratch/stage$install_prefix"

cmake -S "$source_dir/examples/consumer" -B "$scratch/cmake" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
cmake --build "$scratch/cmake" > /dev/null
echo "find_package: $("$scratch/cmake/consumer")"

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
# shellcheck disable=SC2046 # pkg-config's flags are separate words
"$cxx" -std=c++20 "$source_dir/examples/consumer/main.cpp" -o "$scratch/consumer_pc" \
  $(pkg-config --cflags --libs kattn)
ldd "$scratch/consumer_pc" | grep -q "libkattn.so.0" || { echo "not linked to libkattn.so" >&2; exit 1; }
echo "pkg-config: $(LD_LIBRARY_PATH="$prefix/$libdir" "$scratch/consumer_pc")"
