#!/usr/bin/env sh
# Prints the Rust table of `src/ignorable.rs` from a DerivedCoreProperties.txt, merging
# adjacent ranges (gawk). Debian's `unicode-data` package installs the file:
#   tools/default-ignorable.sh /usr/share/unicode/DerivedCoreProperties.txt
set -eu
grep -E '^[0-9A-F.]+ +; Default_Ignorable_Code_Point' "$1" \
  | gawk '{ split($1, r, "\\.\\."); lo = strtonum("0x" r[1]); hi = (r[2] == "") ? lo : strtonum("0x" r[2]);
           if (n > 0 && lo == last + 1) { last = hi } else { if (n > 0) printf "    (0x%04X, 0x%04X),\n", first, last; first = lo; last = hi; n++ } }
         END { printf "    (0x%04X, 0x%04X),\n", first, last }'
