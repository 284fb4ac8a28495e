# Sourced by scripts that run node, npm or npx, so that they get the project's Node (.nvmrc)
# also when run by hand rather than through make: installs it once (node.sh), puts its bin
# first on PATH, and points node-gyp at its headers (a user's ~/.npmrc may name another
# Node's, e.g. nodedir=/usr, the machine's Node 20).
_mp_node_bin=$("$(dirname "${BASH_SOURCE[0]}")/node.sh") || {
  echo "could not install the project's Node.js (scripts/tools/node.sh)" >&2
  exit 1
}
[ "${PATH%%:*}" = "$_mp_node_bin" ] || PATH="$_mp_node_bin:$PATH"
export PATH npm_config_nodedir="${_mp_node_bin%/bin}"
unset _mp_node_bin
