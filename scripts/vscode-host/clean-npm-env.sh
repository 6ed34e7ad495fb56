#!/usr/bin/env bash
# Sourced by setup.sh. `without_outer_npm CMD…` runs CMD with none of the variables that an outer
# npm exports to the scripts it runs (`npm test` → setup.sh → a nested `npm install`).
#
# Why: npm turns every `npm_config_*` variable in its environment into configuration. Under
# `npm test` the outer npm (Node 20) has exported, among others,
#   npm_config_user_agent  "npm/… node/v20… …": code-server's postinstall reads the Node major
#                          from it and refuses anything but 24, though Node 24 runs it;
#   npm_config_node_gyp    the outer npm's node-gyp; npm_config_nodedir the outer Node's headers;
#   npm_config_prefix, npm_config_global_prefix, npm_config_local_prefix  the outer project;
#   npm_config_allow_scripts, npm_config_cache, …  the outer run's settings;
# and npm_package_*, npm_lifecycle_*, npm_execpath, npm_node_execpath, NODE and INIT_CWD, which
# node-gyp and install scripts read to find "their" Node and project. The nested install must
# see the machine as a person's shell does: user and global npmrc files and the user's own
# upper-case NPM_CONFIG_* variables are kept (they are the user's registry, proxy and CA
# settings); only what npm itself injected is dropped. (Node 24's own npm looks for the global
# npmrc under its own prefix, so setup.sh names the machine's explicitly for that install.)
without_outer_npm() {
  local drop=() name
  while IFS= read -r name; do
    case "$name" in
      npm_* | NODE | INIT_CWD) drop+=(-u "$name") ;;
    esac
  done < <(compgen -e)
  env "${drop[@]}" "$@"
}
