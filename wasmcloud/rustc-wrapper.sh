#!/bin/sh
# rustc wrapper for building wasmcloud-host 0.27.1 with rustc >= 1.95 without
# vendoring it: that crate's async query types overflow the default recursion
# limit ("queries overflow the depth limit!"), so it alone is compiled with
# `#![recursion_limit = "256"]` injected as a crate attribute (-Z crate-attr,
# allowed on stable through RUSTC_BOOTSTRAP for this one crate). Every other
# crate is compiled untouched.
case " $* " in
  *" --crate-name wasmcloud_host "*) RUSTC_BOOTSTRAP=1 exec "$@" '-Zcrate-attr=recursion_limit="256"' ;;
  *) exec "$@" ;;
esac
