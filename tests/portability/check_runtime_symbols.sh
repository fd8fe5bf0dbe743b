#!/usr/bin/env bash
# The runtime core must not reach for the heap, exceptions, RTTI or stdio: fail if its static
# library has undefined references to any of them.
set -euo pipefail
lib="$1"
forbidden='malloc|calloc|realloc|free|operator new|operator delete|__cxa_throw|__cxa_allocate_exception|__cxa_begin_catch|__gxx_personality|typeinfo for|__dynamic_cast|std::cout|std::cerr|printf|fopen|pthread_create'
hits=$(nm -C --undefined-only "$lib" | grep -E "$forbidden" || true)
if [ -n "$hits" ]; then
  echo "runtime core references forbidden symbols:"
  echo "$hits"
  exit 1
fi
echo "runtime core: no heap, exception, RTTI, stdio or thread symbols ($(nm -C --undefined-only "$lib" | grep -c ' U ') undefined symbols checked)"
