#!/bin/sh
# Mutation testing of the transformations (optional dev tool: pip install mutmut==2.5.1).
#
# mutmut rewrites the file it mutates, so it runs on a COPY of the tree, never
# on the working checkout.  A mutant is killed when the transformation's tests
# or `linear-a check` (corpus + 15 random programs + per-rule obligations) fail.
#
#   sh benchmarks/mutation.sh transforms/transpose.py      # then: cd /tmp/linear-a-mut && mutmut results
set -e
TARGET=${1:-transforms/transpose.py}
TESTS=${2:-tests/test_transpose.py}
COPY=${COPY:-/tmp/linear-a-mut}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$COPY" && mkdir -p "$COPY"
(cd "$ROOT" && tar --exclude=.git --exclude=__pycache__ --exclude='*.egg-info' --exclude=.hypothesis \
     --exclude=.pytest_cache -cf - .) | (cd "$COPY" && tar xf -)
cat > "$COPY/kill.sh" <<EOF
#!/bin/sh
cd "$COPY"
timeout 300 python -m pytest -x -q -p no:cacheprovider $TESTS >/dev/null 2>&1 || exit 1
timeout 300 python -m linear_a check --random 15 --seed 1 --jobs 1 >/dev/null 2>&1 || exit 1
exit 0
EOF
chmod +x "$COPY/kill.sh"
cd "$COPY" && mutmut run --paths-to-mutate "$TARGET" --runner ./kill.sh --tests-dir tests
