#!/bin/sh
# Rebuild spawner-x86_64.bin (embedded in ../spawn.py as SPAWNER_X86_64, base64).
set -eu
cd "$(dirname "$0")"
gcc -Os -static -nostdlib -fno-stack-protector -fno-asynchronous-unwind-tables \
    -fno-pie -no-pie -Wl,--build-id=none -Wl,-z,norelro -Wl,-z,max-page-size=4096 \
    -Wl,-z,noseparate-code -o spawner-x86_64.bin spawner.c
strip -s -R .comment spawner-x86_64.bin
wc -c spawner-x86_64.bin
# embed it in the harness
python3 - <<'PY'
import base64, re, textwrap
blob = base64.b64encode(open("spawner-x86_64.bin", "rb").read()).decode()
text = open("../spawn.py").read()
lines = "\n".join('    "%s"' % line for line in textwrap.wrap(blob, 88))
new = "SPAWNER_X86_64 = (\n" + lines + "\n)\n"
open("../spawn.py", "w").write(re.sub(r'SPAWNER_X86_64 = \(\n(?:    "[^"]*"\n)+\)\n',
                                        lambda m: new, text))
PY
