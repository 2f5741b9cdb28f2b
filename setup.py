"""Build of the C extension redis_native._native.

hiredis and OpenSSL are found with pkg-config; when one is missing the build stops
with the name of the Debian package that provides it.

Environment switches:
  REDIS_NATIVE_DEBUG=1   -O0 -g, assertions on
  REDIS_NATIVE_ASAN=1    AddressSanitizer + UndefinedBehaviorSanitizer (run with
                         LD_PRELOAD=$(gcc -print-file-name=libasan.so))
"""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup

PKGS = {"hiredis": "libhiredis-dev", "openssl": "libssl-dev"}


def pkg_config(pkg, flag):
    if shutil.which("pkg-config") is None:
        sys.exit("redis_native: pkg-config not found; install it with "
                 "'apt-get install pkg-config'")
    try:
        out = subprocess.check_output(["pkg-config", flag, pkg], stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        sys.exit(f"redis_native: {pkg} development files not found by pkg-config; "
                 f"install them with 'apt-get install {PKGS[pkg]}'")
    return out.decode().split()


cflags, ldflags = [], []
for pkg in PKGS:
    cflags += pkg_config(pkg, "--cflags")
    ldflags += pkg_config(pkg, "--libs")

extra_compile = ["-Wall", "-Wextra", "-Wno-missing-field-initializers",
                 "-Wno-cast-function-type", "-std=c11", "-D_GNU_SOURCE"]
extra_link = []
if os.environ.get("REDIS_NATIVE_DEBUG"):
    extra_compile += ["-O0", "-g3", "-UNDEBUG"]
else:
    extra_compile += ["-O2"]
if os.environ.get("REDIS_NATIVE_ASAN"):
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
    extra_compile += san
    extra_link += san
if os.environ.get("REDIS_NATIVE_WERROR"):
    extra_compile += ["-Werror"]

ext = Extension(
    "redis_native._native",
    sources=sorted(glob.glob("src/*.c")),
    depends=sorted(glob.glob("src/*.h")),
    extra_compile_args=cflags + extra_compile,
    extra_link_args=ldflags + extra_link,
)

setup(ext_modules=[ext])
