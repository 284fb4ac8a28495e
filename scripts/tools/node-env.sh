# Sourced by scripts that run node, npm or npx, so that they get the project's Node (.nvmrc)
# also when run by hand rather than through make: installs it once (node.sh) and puts its bin
# first on PATH.
_mp_node_bin=$("$(dirname "${BASH_SOURCE[0]}")/node.sh") || {
  echo "could not install the project's Node.js (scripts/tools/node.sh)" >&2
  exit 1
}
[ "${PATH%%:*}" = "$_mp_node_bin" ] || PATH="$_mp_node_bin:$PATH"
export PATH
unset _mp_node_bin
