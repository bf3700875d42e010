#!/bin/sh
# Writes the seed inputs of tree_values_fuzz into this directory (this
# script is itself one more, invalid, input). The version links are the
# golden links of kernel/core/tree/version_link_test.cc.
set -eu
cd "$(dirname "$0")"
h1=2b3a8ea7f595eed055eba77403cbbc6fd206f3e65f1c6ddba5267e0bf123bbec
h2=7d693847a3ee8cd0c86a578b2e7f766af77e97a41badd11c650152ef1a5055c5
z=0000000000000000000000000000000000000000000000000000000000000000
seed() { printf '%s' "$2" > "$1"; }
seed host-valid 'hostA'
seed host-reserved 'none'
seed name-space 'x y'
seed name-dash '-a'
seed name-64 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
seed u64-max '18446744073709551615'
seed u64-overflow '18446744073709551616'
seed leading-zero '0512'
seed resource-size '59055800320'
seed switch-on '1'
seed primary-none '(none)'
seed logfile-name 'log-000000017-n1'
seed logfile-zero 'log-000000000-n1'
seed version-name 'version-000000042-beta'
seed replay-link 'log-000000018-n1,22789360,0'
seed replay-overflow 'log-000000001-a,18446744073709551615,1'
seed version-link-1 "$h1,log-000000001-alpha,1048576:$z"
seed version-link-2 "$h2,log-000000002-alpha,4096:$h1"
seed version-link-upper "$(echo "$h1" | tr a-f A-F),log-000000001-alpha,1048576:$z"
seed version-link-wrong "$h2,log-000000001-alpha,1048576:$z"
printf 'resource-r0/primary=n1\nresource-r0/size=1024\nresource-r0/primary\nips/ip-hostA=10.0.0.1\na/../b=1\n/abs=2\nx=.deleted\n' > tree-lines
: > empty
