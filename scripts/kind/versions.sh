# shellcheck shell=bash disable=SC2034  # sourced: the variables are for the scripts that source it
# Versions of what the offline kind node image is made of, in one place.
# Sourced by the scripts in this folder (after scripts/test-env/versions.sh, which gives
# KUBE_VERSION, ETCD_VERSION and MP_TOOLS_CACHE: the node runs the test environment's
# Kubernetes, built from the same wrapper module tools/k8s).
KIND_VERSION=v0.33.0
# The versions kind v0.33.0's own images/base Dockerfile builds.
KIND_CONTAINERD_VERSION=v2.3.4
KIND_CRICTL_VERSION=v1.36.0
KIND_CNI_PLUGINS_VERSION=v1.9.1
# What `kubeadm config images list --kubernetes-version v1.36.3` asks for. The node-image
# script checks these against kubeadm's list, so a Kubernetes bump that changes them fails
# loudly instead of making kubeadm try to pull.
KIND_COREDNS_VERSION=v1.14.2
KIND_PAUSE_TAG=3.10.2
# kubeadm expects etcd 3.6.8-0 for 1.36; the node uses the test environment's etcd under
# this tag, and the kind config points kubeadm's etcd.local.imageTag at it.
KIND_ETCD_TAG=${ETCD_VERSION#v}-0
